"""A separate process that rebuilds prescriptions, for the concurrency test.

Started with multiprocessing's "spawn", so it imports nothing of Django until it has pointed
the settings at the test database: the module must stay importable before `django.setup()`.
"""

import os
from datetime import datetime


def rebuild_each(database_url: str, prescription_ids: list[int], now: str, barrier, outcomes):
    """Rebuild each prescription in turn, starting each one together with the other worker
    (the barrier), and report (prescription id, events added or the error)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connections

    from schedules.models import Prescription
    from schedules.services import prescription_schedule_rebuild

    try:
        for pk in prescription_ids:
            prescription = Prescription.objects.get(pk=pk)
            barrier.wait(timeout=60)
            try:
                result = prescription_schedule_rebuild(
                    prescription=prescription, now=datetime.fromisoformat(now)
                )
                outcomes.put((pk, result.added, ""))
            except Exception as error:
                outcomes.put((pk, None, repr(error)))
    finally:
        connections.close_all()
