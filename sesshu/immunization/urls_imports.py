from django.urls import path

from . import views_imports as views

app_name = "imports"
urlpatterns = [
    path("", views.index, name="index"),
    path("upload/", views.upload, name="upload"),
    path("<int:file_id>/", views.preview, name="preview"),
    path("<int:file_id>/commit/", views.commit, name="commit"),
    path("<int:file_id>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:file_id>/fees.csv", views.fees, name="fees"),
    path("fees/", views.fees_month, name="fees_month"),
    path("fees/<str:month>/<str:code>.csv", views.fees_clinic_csv, name="fees_clinic_csv"),
    path("fees/<str:month>/<str:code>.pdf", views.fees_clinic_pdf, name="fees_clinic_pdf"),
    path("review/", views.review, name="review"),
    path("rows/<int:row_id>/resolve/", views.resolve, name="resolve"),
    path("rows/<int:row_id>/reject/", views.reject, name="reject"),
]
