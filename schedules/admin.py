from django.contrib import admin

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


class PrescriptionPhaseInline(admin.TabularInline):
    model = PrescriptionPhase
    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Prescription)
class PrescriptionAdmin(admin.ModelAdmin):
    """Read-only: prescriptions change through the app's services, which audit and rebuild."""

    list_display = ["patient", "regimen_name", "start_on", "status"]
    list_filter = ["status"]
    inlines = [PrescriptionPhaseInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(InjectionEvent)
class InjectionEventAdmin(admin.ModelAdmin):
    list_display = ["prescription", "phase", "sequence", "due_at", "status"]
    list_filter = ["status"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


admin.site.register(Medication)
admin.site.register(ScheduleChange)
admin.site.register(LabOrder)
admin.site.register(LabResult)
