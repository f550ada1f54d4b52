from django.contrib import admin

from audit.admin import PatientDataAdmin, PatientDataInline
from schedules.models import (
    InjectionEvent,
    LabOrder,
    LabResult,
    Medication,
    Phase,
    Prescription,
    PrescriptionPhase,
    Regimen,
    ScheduleChange,
)


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0


@admin.register(Regimen)
class RegimenAdmin(admin.ModelAdmin):
    """The built-in library (no clinic) is read-only here too."""

    list_display = ["name", "slug", "clinic", "medication", "retired_at"]
    list_filter = ["clinic", "medication"]
    search_fields = ["name", "slug"]
    inlines = [PhaseInline]

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_library:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_library:
            return False
        return super().has_delete_permission(request, obj)


class PrescriptionPhaseInline(PatientDataInline):
    model = PrescriptionPhase


@admin.register(Prescription)
class PrescriptionAdmin(PatientDataAdmin):
    """Read-only: prescriptions change through the app's services, which audit and rebuild."""

    list_display = ["patient", "regimen_name", "start_on", "status"]
    list_filter = ["status"]
    list_select_related = ["patient__user"]
    inlines = [PrescriptionPhaseInline]


@admin.register(InjectionEvent)
class InjectionEventAdmin(PatientDataAdmin):
    patient_path = "prescription__patient"
    list_display = ["prescription", "phase", "sequence", "due_at", "status"]
    list_filter = ["status"]
    list_select_related = ["prescription__patient__user", "phase"]


@admin.register(ScheduleChange)
class ScheduleChangeAdmin(PatientDataAdmin):
    patient_path = "prescription__patient"
    list_display = ["prescription", "changed_at", "reason", "events_removed", "events_added"]
    list_select_related = ["prescription__patient__user"]


@admin.register(LabOrder)
class LabOrderAdmin(PatientDataAdmin):
    patient_path = "prescription__patient"
    list_display = ["prescription", "due_on", "status"]
    list_filter = ["status"]
    list_select_related = ["prescription__patient__user"]


@admin.register(LabResult)
class LabResultAdmin(PatientDataAdmin):
    list_display = ["patient", "taken_on"]
    list_select_related = ["patient__user"]


admin.site.register(Medication)
