"""What the audit app tells the rest: a patient's data changed.

Pages kept elsewhere (the workspace's page cache) must not be shown again once a patient's
data changes. Every audited change already passes through `audit_record`, the bottom layer
every app writes to, so it is the one place that announces it; changes nobody audits (the
workers' own plan changes, a flag raised) announce it with `patients_changed`. The receiver
acts once the transaction commits, so nothing about to be rolled back is forgotten early.
"""

from collections.abc import Iterable

from django.dispatch import Signal

# Sent with patients=[(patient id, clinic id or None), ...].
patient_data_changed = Signal()


def patients_changed(patients: Iterable[tuple[int | None, int | None]]) -> None:
    """Announce that these (patient id, clinic id) pairs' data changed."""
    pairs = [(patient_id, clinic_id) for patient_id, clinic_id in patients]
    if pairs:
        patient_data_changed.send(sender=None, patients=pairs)
