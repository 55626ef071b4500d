from django.urls import path

from apps.licences import views

app_name = "licences-office"

urlpatterns = [
    path("show/", views.office_show, name="show"),
]
