from django.urls import path

from apps.handoffs import views

app_name = "handoffs"

urlpatterns = [
    path("", views.handoff_list, name="list"),
    path("<int:handoff_id>/", views.handoff_detail, name="detail"),
    path("<int:handoff_id>/retry/", views.handoff_retry, name="retry"),
    path("<int:handoff_id>/reroute/", views.handoff_reroute, name="reroute"),
    path("<int:handoff_id>/acknowledge/", views.handoff_acknowledge, name="acknowledge"),
    path("endpoint/", views.endpoint_home, name="endpoint"),
    path("endpoint/<int:department_id>/", views.endpoint_config, name="endpoint-department"),
    path("endpoint/<int:department_id>/keys/", views.signing_key_add, name="key-add"),
    path(
        "endpoint/<int:department_id>/keys/<int:key_id>/deactivate/",
        views.signing_key_deactivate,
        name="key-deactivate",
    ),
]
