from django.urls import path

from apps.catalog import api

urlpatterns = [
    path("items/", api.ItemListApi.as_view(), name="catalog-items"),
    path("items/<str:code>/", api.ItemDetailApi.as_view(), name="catalog-item-detail"),
]
