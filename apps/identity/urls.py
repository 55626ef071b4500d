from django.urls import path

from apps.identity import views

app_name = "identity"

urlpatterns = [
    path("login/", views.PortalLoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("register/", views.register, name="register"),
    path("password-reset/", views.password_reset, name="password-reset"),
    path("profile/", views.profile, name="profile"),
    path("profile/verify/", views.verify_real_name, name="verify"),
    path("profile/level3/", views.level_three, name="level3"),
    path("service-code/", views.service_code, name="service-code"),
    path("profile/enterprises/bind/", views.bind_enterprise, name="bind-enterprise"),
    path("profile/enterprises/<int:enterprise_id>/agents/", views.grant_agent, name="grant-agent"),
    path(
        "profile/enterprises/<int:enterprise_id>/admins/",
        views.add_licence_admin,
        name="add-licence-admin",
    ),
    path(
        "profile/admins/<int:role_id>/remove/",
        views.remove_licence_admin,
        name="remove-licence-admin",
    ),
    path(
        "profile/authorisations/<int:authorisation_id>/revoke/",
        views.revoke_agent,
        name="revoke-agent",
    ),
]
