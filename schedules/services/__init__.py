"""Services write: keyword-only, atomic, raising ValidationError a person can read."""

from schedules.services.changes import (
    prescription_phase_change,
    prescription_update_timing,
    prescriptions_follow_patient,
)
from schedules.services.clinic_doses import (
    injection_event_enter_in_error,
    injection_event_log_in_clinic,
)
from schedules.services.corrections import injection_event_correct
from schedules.services.events import (
    injection_event_log,
    injection_event_skip,
    injection_events_mark_missed,
)
from schedules.services.feeds import calendar_feed_create, calendar_feed_revoke
from schedules.services.horizon import prescriptions_extend_horizon
from schedules.services.lab_entries import LabEntry, lab_result_enter
from schedules.services.labs import lab_result_record, lab_taken_on_bound
from schedules.services.materialise import prescriptions_materialise
from schedules.services.prescribing import Preview, prescription_preview, prescription_start
from schedules.services.prescriptions import (
    PhaseChoice,
    Prescribed,
    prescription_create,
    prescription_phase_end,
)
from schedules.services.regimens import (
    PhaseProblem,
    regimen_copy,
    regimen_ensure_editable,
    regimen_phase_problems,
    regimen_restore,
    regimen_retire,
    regimen_update,
)
from schedules.services.schedule import RebuildResult, prescription_schedule_rebuild
from schedules.services.status import prescription_pause, prescription_resume, prescription_stop

__all__ = [
    "LabEntry",
    "PhaseChoice",
    "PhaseProblem",
    "Prescribed",
    "Preview",
    "RebuildResult",
    "calendar_feed_create",
    "calendar_feed_revoke",
    "injection_event_correct",
    "injection_event_enter_in_error",
    "injection_event_log",
    "injection_event_log_in_clinic",
    "injection_event_skip",
    "injection_events_mark_missed",
    "lab_result_enter",
    "lab_result_record",
    "lab_taken_on_bound",
    "prescription_create",
    "prescription_pause",
    "prescription_phase_change",
    "prescription_phase_end",
    "prescription_preview",
    "prescription_resume",
    "prescription_schedule_rebuild",
    "prescription_start",
    "prescription_stop",
    "prescription_update_timing",
    "prescriptions_extend_horizon",
    "prescriptions_follow_patient",
    "prescriptions_materialise",
    "regimen_copy",
    "regimen_ensure_editable",
    "regimen_phase_problems",
    "regimen_restore",
    "regimen_retire",
    "regimen_update",
]
