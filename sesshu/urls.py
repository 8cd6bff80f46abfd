from django.contrib import admin
from django.urls import include, path

from sesshu.portal.api import api

admin.site.site_header = "sesshu システム管理"
admin.site.site_title = "sesshu"

urlpatterns = [
    path("", include("sesshu.portal.urls")),
    path("accounts/otp/", include("sesshu.accounts.urls_otp")),
    path("accounts/", include("sesshu.accounts.urls")),
    path("persons/", include("sesshu.immunization.urls")),
    path("", include("sesshu.immunization.urls_certificates")),  # also /.well-known/jwks.json
    path("notices/", include("sesshu.immunization.urls_notices")),
    path("records/", include("sesshu.immunization.urls_records")),
    path("imports/", include("sesshu.immunization.urls_imports")),
    path("fhir/", include("sesshu.immunization.urls_fhir")),
    path("register/", include("sesshu.residents.urls")),
    path("mynumber/", include("sesshu.addressee.urls")),
    path("non-residents/", include("sesshu.addressee.urls_non_residents")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

handler400 = "sesshu.portal.views.bad_request"
handler403 = "sesshu.portal.views.permission_denied"
handler404 = "sesshu.portal.views.not_found"
handler500 = "sesshu.portal.views.server_error"
