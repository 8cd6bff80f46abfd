"""Certified copies of the resident record. No app_name: the residents urlconf includes these routes
inside its own namespace, and the views reverse their links in whatever namespace they came through.

There is deliberately no download route: only the hash of an issued PDF is kept, and a second copy
is a new issue.
"""

from django.urls import path

from . import views_certificates

urlpatterns = [
    path("juminhyo/new/", views_certificates.juminhyo_new, name="juminhyo_new"),
    path("juminhyo/issued/", views_certificates.juminhyo_register, name="juminhyo_register"),
]
