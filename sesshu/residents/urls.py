from django.urls import include, path

from . import views

app_name = "residents"
urlpatterns = [
    path("", views.search, name="search"),
    path("residents/<str:resident_number>/", views.resident_detail, name="resident"),
    path("households/<str:household_number>/", views.household_detail, name="household"),
    path("moves/", views.move_queue, name="moves"),
    path("moves/new/<str:kind>/", views.move_new, name="move_new"),
    path("moves/<int:move_id>/", views.move_detail, name="move"),
    path("moves/<int:move_id>/confirm/", views.move_confirm, name="move_confirm"),
    path("moves/<int:move_id>/reject/", views.move_reject, name="move_reject"),
    path("", include("sesshu.residents.urls_certificates")),
]
