"""Back-office case screens, mounted at /office/ (namespace ``office-cases``)."""

from django.urls import path

from apps.cases.views import office

app_name = "office-cases"

urlpatterns = [
    path("intake/", office.case_intake, name="intake"),
    path("cases/", office.case_queue, name="queue"),
    path("cases/<int:case_id>/", office.case_screen, name="case"),
    path("cases/<int:case_id>/do/<slug:action>/", office.case_action, name="action"),
    path(
        "cases/<int:case_id>/materials/<int:material_id>/check/",
        office.material_check,
        name="material-check",
    ),
    path("cases/<int:case_id>/notice/<slug:kind>/", office.case_notice, name="notice"),
]
