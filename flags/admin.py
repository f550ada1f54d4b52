from django.contrib import admin

from audit.admin import PatientDataAdmin
from flags.models import Flag, SymptomReport


@admin.register(Flag)
class FlagAdmin(PatientDataAdmin):
    """Read-only: flags are raised by the app, assigned through `flag_assign` (only to a nurse
    of the patient's clinic) and resolved through `flag_resolve` (with a note), both audited."""

    list_display = ["patient", "cause", "urgency", "opened_at", "occurrences", "resolved_at"]
    list_filter = ["cause", "urgency", ("resolved_at", admin.EmptyFieldListFilter)]
    list_select_related = ["patient__user"]
    search_fields = ["patient__user__username", "patient__user__last_name", "summary"]
    date_hierarchy = "opened_at"
    fields = [
        "patient",
        "prescription",
        "cause",
        "urgency",
        "summary",
        "details",
        "opened_at",
        "last_seen_at",
        "occurrences",
        "assigned_to",
        "resolved_at",
        "resolved_by",
        "resolution_note",
    ]


@admin.register(SymptomReport)
class SymptomReportAdmin(PatientDataAdmin):
    """Read-only: what a patient reported stays as they reported it."""

    list_display = ["patient", "reported_at", "symptoms"]
    list_select_related = ["patient__user"]
    date_hierarchy = "reported_at"
