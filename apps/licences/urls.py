from django.urls import path

from apps.licences import views

app_name = "licences"

urlpatterns = [
    path("", views.wallet, name="wallet"),
    path("verify/", views.verify, name="verify"),
    path("root-certificate.pem", views.root_certificate, name="root_certificate"),
    path("authorisations/", views.authorisations, name="authorisations"),
    path("<int:pk>/", views.licence_detail, name="detail"),
    path("<int:pk>/qr/", views.licence_qr, name="qr"),
    path("<int:pk>/download/", views.licence_download, name="download"),
]
