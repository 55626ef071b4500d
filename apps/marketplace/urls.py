from django.urls import path

from apps.marketplace import views

app_name = "marketplace"

urlpatterns = [
    path("", views.project_list, name="index"),
    path("services/", views.service_list, name="services"),
    path("agencies/", views.directory, name="directory"),
    path("agencies/join/", views.agency_join, name="join"),
    path("agencies/<int:agency_id>/", views.agency_detail, name="agency"),
    path("projects/new/", views.project_new, name="project_new"),
    path("projects/<int:project_id>/", views.project_detail, name="project"),
    path("projects/<int:project_id>/register/", views.project_register, name="project_register"),
    path("projects/<int:project_id>/nonce/", views.project_nonce, name="project_nonce"),
    path("projects/<int:project_id>/pick/", views.project_pick, name="project_pick"),
    path("projects/<int:project_id>/bid/", views.project_bid, name="project_bid"),
    path("projects/<int:project_id>/score/", views.project_score, name="project_score"),
    path("projects/<int:project_id>/objection/", views.project_objection, name="project_objection"),
    path("projects/<int:project_id>/contract/", views.contract_action, name="contract"),
    path("blacklist/", views.blacklist, name="blacklist"),
    path("draws/<int:draw_id>/", views.draw_detail, name="draw"),
    path("draws/<int:draw_id>.json", views.draw_json, name="draw_json"),
]
