from django.contrib import admin

from audit.admin import PatientDataAdmin
from clinics.models import Clinic, Patient, StaffMembership


class StaffMembershipInline(admin.TabularInline):
    model = StaffMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone"]
    search_fields = ["name", "slug"]
    inlines = [StaffMembershipInline]


@admin.register(Patient)
class PatientAdmin(PatientDataAdmin):
    """Read-only: a patient's details change on their own Details page, audited."""

    patient_path = ""
    list_display = ["user", "clinic", "time_zone", "dose_time"]
    list_filter = ["clinic"]
    list_select_related = ["user", "clinic"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
