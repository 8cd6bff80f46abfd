from django.urls import path

from . import views

app_name = "immunization"
urlpatterns = [
    path("", views.search, name="search"),
    path("<int:person_id>/", views.person_detail, name="person"),
    path("<int:person_id>/long-term-care/", views.record_long_term_care, name="long_term_care"),
]
