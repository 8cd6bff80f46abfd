"""The second factor's pages, included at /accounts/otp/ (namespace ``otp``)."""

from django.urls import path

from . import views_otp

app_name = "otp"
urlpatterns = [
    path("enrol/", views_otp.enrol, name="enrol"),
    path("verify/", views_otp.verify, name="verify"),
    path("status/", views_otp.status, name="status"),
]
