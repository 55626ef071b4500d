from django.urls import path

from apps.reviews import api

urlpatterns = [
    path("", api.RatingListApi.as_view(), name="reviews-list"),
    path("tickets/", api.TicketListApi.as_view(), name="reviews-tickets"),
    path("stats/", api.StatsApi.as_view(), name="reviews-stats"),
    path("cases/<int:case_id>/rate/", api.CaseRateApi.as_view(), name="reviews-rate-case"),
]
