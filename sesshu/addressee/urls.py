from django.urls import path

from . import views

app_name = "addressee"
urlpatterns = [
    path("search/", views.search, name="search"),
    path("persons/<int:person_id>/register/", views.register, name="register"),
    path("persons/<int:person_id>/reveal/", views.reveal, name="reveal"),
    path("requests/", views.requests, name="requests"),
    path("persons/<int:person_id>/mailing-address/", views.alternative_address, name="alternative_address"),
    path("requests/<int:request_id>/confirm/", views.confirm, name="confirm"),
    path("requests/<int:request_id>/reject/", views.reject, name="reject"),
]
