from django.urls import path

from . import views_records as views

app_name = "records"
urlpatterns = [
    path("new/", views.start, name="start"),
    path("new/<int:person_id>/", views.enter, name="enter"),
    path("person/<int:person_id>/", views.person_records, name="person"),
    path("<int:record_id>/", views.detail, name="detail"),
    path("<int:record_id>/correct/", views.correct, name="correct"),
    path("<int:record_id>/delete/", views.delete, name="delete"),
    path("changes/", views.changes, name="changes"),
    path("changes/<int:change_id>/confirm/", views.confirm, name="confirm"),
    path("changes/<int:change_id>/reject/", views.reject, name="reject"),
    path("masters/", views.masters, name="masters"),
]
