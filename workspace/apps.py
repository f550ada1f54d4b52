from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class WorkspaceConfig(AppConfig):
    name = "workspace"

    def ready(self) -> None:
        from audit.signals import patient_data_changed
        from clinics.models import StaffMembership
        from workspace.page_cache import membership_changed, patients_forget

        # What was worked out for a patient is not shown again once their data changes.
        patient_data_changed.connect(patients_forget, dispatch_uid="workspace.patients_forget")

        # A nurse's clinics are kept with her pages: forget them when a membership changes.
        post_save.connect(
            membership_changed, sender=StaffMembership, dispatch_uid="workspace.membership_saved"
        )
        post_delete.connect(
            membership_changed, sender=StaffMembership, dispatch_uid="workspace.membership_deleted"
        )
