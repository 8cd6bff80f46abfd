"""Non-residents (住登外者): mounted by sesshu/urls.py under non-residents/."""

from django.urls import path

from . import views_non_residents as views

app_name = "non_residents"
urlpatterns = [
    path("new/", views.new, name="new"),
    path("<int:person_id>/edit/", views.edit, name="edit"),
]
