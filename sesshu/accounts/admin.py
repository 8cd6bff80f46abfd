"""Django admin, for the system administrator: staff accounts, terminals and API tokens only.

No personal data of residents is registered here: the admin is not audited per record, so the
register, the addressee and the immunization data stay out of it.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

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
