from django.apps import AppConfig


class SchedulesConfig(AppConfig):
    name = "schedules"

    def ready(self) -> None:
        from clinics.signals import patient_timing_changed
        from schedules import receivers

        patient_timing_changed.connect(
            receivers.patient_timing_changed, dispatch_uid="schedules.patient_timing_changed"
        )
