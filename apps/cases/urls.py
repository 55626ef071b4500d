"""Citizens' case pages, mounted at /cases/ (namespace ``cases``)."""

from django.urls import path

from apps.cases.views import portal

app_name = "cases"

urlpatterns = [
    path("mine/", portal.case_list, name="mine"),
    path("apply/<str:code>/", portal.case_apply, name="apply"),
    path("<int:case_id>/", portal.case_detail, name="detail"),
    path("<int:case_id>/form/", portal.case_save_form, name="save-form"),
    path("<int:case_id>/materials/", portal.case_upload, name="upload"),
    path("<int:case_id>/submit/", portal.case_submit, name="submit"),
    path("<int:case_id>/resubmit/", portal.case_resubmit, name="resubmit"),
    path("<int:case_id>/withdraw/", portal.case_withdraw, name="withdraw"),
    path("<int:case_id>/notice/<slug:kind>/", portal.case_notice, name="notice"),
    path("materials/<int:material_id>/download/", portal.material_download, name="material"),
]
