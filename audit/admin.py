"""Patient data in the Django admin: shown, never written, and every object shown is audited.

The app changes patient data through services that check scope (a flag goes only to a nurse
of the patient's clinic) and write an audit row in the same transaction; the admin's generic
forms would do neither, so the admin classes of patient data here refuse add, change, delete
and bulk actions. Reading patient data in the admin is a staff view like the nurse's record
page: one audit row per object shown, in a list or on its own page.
"""

from operator import attrgetter

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from audit.models import AuditEvent
from audit.services import audit_record


class AuditedViewsMixin:
    """Writes a `view` audit row for each object of a patient's shown by the admin."""

    #: The path from an object to its clinics.Patient, as in a query ("" for a Patient).
    patient_path = "patient"

    def patient_of(self, obj: models.Model):
        if not self.patient_path:
            return obj
        return attrgetter(self.patient_path.replace("__", "."))(obj)

    def get_list_select_related(self, request):
        # The list reads each row's patient to audit it: in the list's own query.
        selected = super().get_list_select_related(request)
        if selected is True or not self.patient_path:
            return selected
        return [*(selected or []), self.patient_path]

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        if request.method == "GET" and response.status_code == 200 and "cl" in context:
            # The page's rows, read once: the template shows the very rows audited here.
            self.audit_viewed(request, context["cl"].result_list, where="list")
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        context = getattr(response, "context_data", None) or {}
        if request.method == "GET" and response.status_code == 200 and context.get("original"):
            self.audit_viewed(request, [context["original"]], where="page")
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        context = getattr(response, "context_data", None) or {}
        if response.status_code == 200 and context.get("object"):
            self.audit_viewed(request, [context["object"]], where="history")
        return response

    def audit_viewed(self, request: HttpRequest, objects, *, where: str) -> None:
        label = self.model._meta.verbose_name
        for obj in objects:
            patient = self.patient_of(obj)
            if patient is None:
                continue
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.VIEW,
                target=obj,
                patient=patient,
                summary=f"Viewed {label} in the Django admin ({where})",
                request=request,
            )


class PatientDataAdmin(AuditedViewsMixin, admin.ModelAdmin):
    """Read-only and audited: for every model carrying a patient's data."""

    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PatientDataInline(admin.TabularInline):
    """An inline of patient data: shown with its parent, never added, changed or deleted."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(PatientDataAdmin):
    """Nobody adds, edits or deletes audit rows through the app."""

    list_display = ["at", "actor_label", "action", "target_type", "target_id", "summary"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_label", "summary", "target_id"]
    date_hierarchy = "at"

    def patient_of(self, obj):
        # A row of a change carries the patient's data (its before and after values): showing
        # it is audited. A row of a view records only that someone looked; auditing the
        # reading of those would write a row for each row read, and again on the next page.
        if obj.action == AuditEvent.Action.VIEW:
            return None
        return super().patient_of(obj)
