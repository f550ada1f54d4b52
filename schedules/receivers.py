"""What the schedules app does when an app below it announces something; connected in
`SchedulesConfig.ready`."""

from schedules.services import prescriptions_follow_patient


def patient_timing_changed(sender, *, patient, actor, now, **kwargs) -> None:
    """A patient's time zone or dose time changed (`clinics.signals.patient_timing_changed`):
    their running prescriptions follow, in the same transaction (clinical rules 2.8)."""
    prescriptions_follow_patient(patient=patient, actor=actor, now=now)
