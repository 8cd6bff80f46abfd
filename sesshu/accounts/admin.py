"""Django admin, for the system administrator: staff accounts, terminals and API tokens only.

Second-factor devices too (delete a lost one, release a lock; never the key). No personal data of
residents is registered here: the admin is not audited per record, so the
register, the addressee and the immunization data stay out of it.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import ApiToken, Staff, Terminal


@admin.register(Staff)
class StaffAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("所属 (department)", {"fields": ("display_name", "department")}))
    list_display = ("username", "display_name", "department", "is_active", "last_login")


@admin.register(Terminal)
class TerminalAdmin(admin.ModelAdmin):
    list_display = ("name", "ip_address", "location", "active")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "name", "staff", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at", "last_used_at")


# django-otp's own TOTPDevice admin shows the key and a QR code; replace it (whichever app loads first).
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    """Who has a device; delete it (lost phone) or release a lock. Devices are created only by their
    owner on the enrolment page, so the administrator never knows a secret."""

    list_display = ("user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count")
    list_filter = ("confirmed",)
    search_fields = ("user__username", "user__display_name")
    fields = (
        "user", "name", "confirmed", "created_at", "last_used_at",
        "throttling_failure_count", "throttling_failure_timestamp",
    )  # fmt: skip
    readonly_fields = ("user", "name", "confirmed", "created_at", "last_used_at")

    def has_add_permission(self, request):
        return False
