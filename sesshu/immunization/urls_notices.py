from django.urls import path

from . import views_notices as views

app_name = "notices"
urlpatterns = [
    path("", views.batches, name="batches"),
    path("start/", views.start, name="start"),
    path("status/", views.status, name="status"),
    path("runs/resume/", views.resume, name="resume"),
    path("runs/rollback/", views.rollback, name="rollback"),
    path("find/", views.find, name="find"),
    path("<int:batch_id>/", views.batch, name="batch"),
    path("<int:batch_id>/csv/", views.csv, name="csv"),
    path("<int:batch_id>/pdf/", views.pdf, name="pdf"),
    path("notice/<int:notice_id>/", views.notice, name="notice"),
    path("notice/<int:notice_id>/reissue/", views.reissue, name="reissue"),
    path("notice/<int:notice_id>/pdf/", views.notice_pdf, name="notice_pdf"),
]
