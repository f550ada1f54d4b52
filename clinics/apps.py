from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    name = "clinics"

    def ready(self) -> None:
        from accounts.signals import invitation_accepted
        from clinics import receivers

        invitation_accepted.connect(
            receivers.invitation_accepted, dispatch_uid="clinics.invitation_accepted"
        )
