from django.urls import path

from apps.handoffs import api

app_name = "handoffs"

urlpatterns = [
    path("inbox/", api.HandoffInboxApi.as_view(), name="inbox"),
    path("inbox/ack/", api.HandoffBatchAckApi.as_view(), name="ack-batch"),
    path("inbox/<int:handoff_id>/ack/", api.HandoffAckApi.as_view(), name="ack"),
    path("<int:handoff_id>/answers/", api.HandoffAnswerApi.as_view(), name="answer"),
]
