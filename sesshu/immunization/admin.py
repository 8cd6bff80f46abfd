"""Django admin for the record masters only (no resident data): the system administrator keeps the
clinics with their contract periods and fee tables, the doctors, makers, products and lots."""

from django.contrib import admin

from .models import Clinic, ClinicFee, Doctor, Lot, Maker, Product


class ClinicFeeInline(admin.TabularInline):
    model = ClinicFee
    extra = 0


class DoctorInline(admin.TabularInline):
    model = Doctor
    extra = 0


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "contract_from", "contract_to")
    search_fields = ("code", "name", "name_kana")
    inlines = [ClinicFeeInline, DoctorInline]


@admin.register(Doctor)
class DoctorAdmin(admin.ModelAdmin):
    list_display = ("name", "name_kana", "clinic", "active")
    list_filter = ("active",)


@admin.register(Maker)
class MakerAdmin(admin.ModelAdmin):
    list_display = ("code", "name")


class LotInline(admin.TabularInline):
    model = Lot
    extra = 0


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "vaccine", "maker", "standard_volume_ml", "hot_code", "active")
    list_filter = ("vaccine", "active")
    inlines = [LotInline]


@admin.register(Lot)
class LotAdmin(admin.ModelAdmin):
    list_display = ("lot_number", "product", "expires_on")
    search_fields = ("lot_number",)
