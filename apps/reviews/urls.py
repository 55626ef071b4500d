from django.urls import path

from apps.reviews import views

app_name = "reviews"

urlpatterns = [
    path("", views.public_index, name="index"),
    path("cases/<int:case_id>/rate/", views.case_rate, name="case_rate"),
    path("cases/<int:case_id>/nodes/<str:node>/rate/", views.case_node_rate, name="case_node_rate"),
    path("feedback/<int:ticket_id>/", views.feedback, name="feedback"),
    path("r/<str:token>/", views.qr_rate, name="qr_rate"),
]
