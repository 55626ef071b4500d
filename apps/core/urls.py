from django.urls import path

from apps.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("prefs/elder/", views.elder_mode_toggle, name="elder_mode"),
]
