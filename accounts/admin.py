from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import User
from audit.admin import AuditedViewsMixin


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
