"""Certificates (mounted at the site root by one line in sesshu/urls.py): the staff screens under
/certificates/ and /persons/<id>/certificates/, the public verification page, and the issuer's published
keys and revocation lists under /.well-known/ as the SMART Health Cards specification places them."""

from django.urls import path, re_path

from . import views_certificates as views

app_name = "certificates"
CERTIFICATE_ID = r"(?P<certificate_id>[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})"

urlpatterns = [
    path("certificates/", views.register, name="register"),
    path("certificates/verify/", views.verify, name="verify"),
    re_path(rf"^certificates/{CERTIFICATE_ID}/$", views.detail, name="detail"),
    re_path(rf"^certificates/{CERTIFICATE_ID}/pdf/$", views.certificate_pdf, name="pdf"),
    re_path(rf"^certificates/{CERTIFICATE_ID}/revoke/$", views.revoke, name="revoke"),
    path("persons/<int:person_id>/certificates/", views.person_certificates, name="person"),
    path("persons/<int:person_id>/certificates/new/<str:kind>/", views.new_certificate, name="new"),
    path(
        "persons/<int:person_id>/certificates/completion/<int:record_id>/",
        views.completion,
        name="completion",
    ),
    path(".well-known/jwks.json", views.jwks, name="jwks"),
    path(".well-known/crl/<str:kid>.json", views.crl, name="crl"),
]
