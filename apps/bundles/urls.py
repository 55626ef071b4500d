from django.urls import path

from apps.bundles import views

app_name = "bundles"

urlpatterns = [
    path("", views.bundle_list, name="list"),
    path("mine/", views.application_list, name="mine"),
    path("applications/<int:application_id>/", views.application_detail, name="application"),
    path(
        "applications/<int:application_id>/withdraw/",
        views.application_withdraw,
        name="withdraw",
    ),
    path(
        "applications/<int:application_id>/children/<int:child_id>/supplement/",
        views.application_supplement,
        name="supplement",
    ),
    path(
        "applications/<int:application_id>/delivery/",
        views.application_delivery,
        name="delivery",
    ),
    path("<slug:code>/", views.bundle_guide, name="guide"),
    path("<slug:code>/apply/", views.bundle_apply, name="apply"),
]
