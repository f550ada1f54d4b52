from django.contrib import admin

from flags.models import Flag, SymptomReport


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    """Read-mostly: flags are raised by the app and resolved through `flag_resolve`, which
    demands a note and audits it. Only who the flag is assigned to may be changed here."""

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
    readonly_fields = [name for name in fields if name != "assigned_to"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SymptomReport)
class SymptomReportAdmin(admin.ModelAdmin):
    """Read-only: what a patient reported stays as they reported it."""

    list_display = ["patient", "reported_at", "symptoms"]
    list_select_related = ["patient__user"]
    date_hierarchy = "reported_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
