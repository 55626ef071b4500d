from django.urls import path

from apps.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.item_index, name="index"),
    path("search/", views.item_search, name="search"),
    path("region/", views.choose_region, name="choose-region"),
    path("items/<str:code>/", views.item_detail, name="item-detail"),
]
