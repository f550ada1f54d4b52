"""The Django admin of clinics and their people, the user accounts among them.

The User admin is registered here rather than in accounts: a patient's account is patient
data (read-only, each view audited with audit.admin), and accounts imports no other app.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import User
from audit.admin import AuditedViewsMixin, PatientDataAdmin
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


def _patient_of(user: User):
    """The user's patient record, or None for staff (read with the user, select_related)."""
    return getattr(user, "patient", None)


@admin.register(User)
class UserAdmin(AuditedViewsMixin, BaseUserAdmin):
    """Staff accounts are managed here; a patient's account is read-only, and viewing it is
    audited. Every change to a patient's account has its own audited route in the app (the
    patient's own pages, the clinic admin's deactivate and reactivate, password reset by
    email); this form would let an operator change their role, staff status, activity or
    password with no audit row and none of those services' rules, so it refuses instead."""

    list_display = ["username", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = (*BaseUserAdmin.fieldsets, ("Role", {"fields": ["role"]}))

    def patient_of(self, obj):
        return _patient_of(obj)

    def has_change_permission(self, request, obj=None):
        if obj is not None and _patient_of(obj) is not None:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and _patient_of(obj) is not None:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        # Deleting in bulk checks no object: a patient's account could be in the selection.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions
