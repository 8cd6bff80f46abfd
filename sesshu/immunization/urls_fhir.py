from django.urls import path

from . import views_fhir as views

app_name = "fhir"
urlpatterns = [
    path("Patient/<int:person_id>/$everything", views.patient_everything, name="everything"),
    path("Immunization", views.immunization_search, name="immunizations"),
]
