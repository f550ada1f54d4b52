from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class WorkspaceConfig(AppConfig):
    name = "workspace"

    def ready(self) -> None:
        from clinics.models import StaffMembership
        from workspace.page_cache import membership_changed

        # A nurse's clinics are kept with her pages: forget them when a membership changes.
        post_save.connect(
            membership_changed, sender=StaffMembership, dispatch_uid="workspace.membership_saved"
        )
        post_delete.connect(
            membership_changed, sender=StaffMembership, dispatch_uid="workspace.membership_deleted"
        )
