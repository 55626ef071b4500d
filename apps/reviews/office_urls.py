from django.urls import path

from apps.reviews import views

app_name = "reviews_office"

urlpatterns = [
    # The hall pad: no login, bound to one window service by a signed single-use token.
    path("pad/<str:token>/", views.pad_rate, name="pad"),
]
