from django.urls import path

from apps.cases import api

urlpatterns = [
    path("", api.CaseListApi.as_view(), name="cases-list"),
    path("<int:case_id>/", api.CaseDetailApi.as_view(), name="cases-detail"),
    path("<int:case_id>/review/", api.CaseReviewApi.as_view(), name="cases-review"),
    path("<int:case_id>/decide/", api.CaseDecideApi.as_view(), name="cases-decide"),
    path("<int:case_id>/complete/", api.CaseCompleteApi.as_view(), name="cases-complete"),
    path("<int:case_id>/suspend/", api.CaseSuspendApi.as_view(), name="cases-suspend"),
    path("<int:case_id>/resume/", api.CaseResumeApi.as_view(), name="cases-resume"),
    path(
        "materials/download/<str:token>/",
        api.MaterialDownloadApi.as_view(),
        name="cases-material-download",
    ),
]
