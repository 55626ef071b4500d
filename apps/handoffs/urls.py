from django.urls import path

from apps.handoffs import views

app_name = "handoffs"

urlpatterns = [
    path("", views.handoff_list, name="list"),
]
