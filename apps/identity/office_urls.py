from django.urls import path

from apps.identity import views

app_name = "office-identity"

urlpatterns = [
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("identify/", views.office_identify, name="identify"),
    path("identify/reveal/", views.office_reveal_id_number, name="reveal"),
    path("identify/verify-in-person/", views.office_verify_in_person, name="verify-in-person"),
    path("reveal-grants/", views.office_reveal_grants, name="reveal-grants"),
    path(
        "reveal-grants/<int:grant_id>/revoke/",
        views.office_revoke_reveal_grant,
        name="revoke-reveal-grant",
    ),
]
