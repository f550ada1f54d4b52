"""What the clinics app tells the apps above it, which it never imports.

`patient_timing_changed` is sent by `patient_update_details` inside its transaction, once a
patient's time zone or preferred dose time has changed, with `patient`, `actor` and `now`.
The schedules app receives it and moves the patient's running prescriptions (clinical rules
2.8); a receiver that raises undoes the change.
"""

from django.dispatch import Signal

patient_timing_changed = Signal()
