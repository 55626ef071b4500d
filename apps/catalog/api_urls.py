from django.urls import path

from apps.catalog import api

urlpatterns = [
    path("items/", api.ItemListApi.as_view(), name="catalog-items"),
    path("items/<str:code>/", api.ItemDetailApi.as_view(), name="catalog-item-detail"),
    path(
        "department/items/",
        api.ManagedItemListCreateApi.as_view(),
        name="catalog-department-items",
    ),
    path(
        "department/items/<str:code>/",
        api.ManagedItemDetailApi.as_view(),
        name="catalog-department-item",
    ),
    path(
        "department/items/<str:code>/publish/",
        api.ManagedItemPublishApi.as_view(),
        name="catalog-department-item-publish",
    ),
    path(
        "department/items/<str:code>/suspend/",
        api.ManagedItemSuspendApi.as_view(),
        name="catalog-department-item-suspend",
    ),
    path(
        "department/items/<str:code>/resume/",
        api.ManagedItemResumeApi.as_view(),
        name="catalog-department-item-resume",
    ),
    path(
        "department/items/<str:code>/retire/",
        api.ManagedItemRetireApi.as_view(),
        name="catalog-department-item-retire",
    ),
]
