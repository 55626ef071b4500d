from django.urls import path

from apps.reviews import office_views, views

app_name = "reviews_office"

urlpatterns = [
    # The hall pad: no login, bound to one window service by a signed single-use token.
    path("pad/<str:token>/", views.pad_rate, name="pad"),
    path("", office_views.ticket_list, name="tickets"),
    path("tickets/<int:ticket_id>/", office_views.ticket_detail, name="ticket"),
    path(
        "tickets/<int:ticket_id>/<slug:action>/",
        office_views.ticket_action,
        name="ticket_action",
    ),
    path("appeals/<int:appeal_id>/", office_views.appeal_detail, name="appeal"),
    path(
        "appeals/evidence/<int:evidence_id>/",
        office_views.appeal_evidence,
        name="appeal_evidence",
    ),
    path("services/new/", office_views.window_service_new, name="window_service"),
    path("moderation/", office_views.moderation_queue, name="moderation"),
    path("stats/", office_views.stats, name="stats"),
    path("stats.csv", office_views.stats_csv, name="stats_csv"),
]
