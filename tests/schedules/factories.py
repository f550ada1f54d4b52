"""Regimens and prescriptions for the schedules service tests.

The library itself comes from the data migration (clinical-rules.md section 1); these helpers
only look it up, copy it into a clinic's template, and prescribe.
"""

import os
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.db import connection

from schedules.models import Prescription, Regimen
from schedules.services import prescription_create, regimen_copy


def library_regimen(slug: str) -> Regimen:
    return Regimen.objects.get(slug=slug, clinic=None)


def clinic_template(
    slug: str,
    clinic,
    *,
    phases: dict[int, dict[str, Any]] | None = None,
    **fields: Any,
) -> Regimen:
    """A clinic's copy of a library regimen, as a clinic admin makes it, then edited: `phases`
    changes fields of the phase at each position (1-based), e.g. {1: {"route": "IV"}}."""
    template = regimen_copy(regimen=library_regimen(slug), clinic=clinic)
    for position, changes in (phases or {}).items():
        template.phases.filter(position=position).update(**changes)
    if fields:
        Regimen.objects.filter(pk=template.pk).update(**fields)
        template.refresh_from_db()
    return template


def prescribe(
    patient, regimen: Regimen | str, *, start_on: date, now: datetime, by, **options: Any
) -> Prescription:
    if isinstance(regimen, str):
        regimen = library_regimen(regimen)
    return prescription_create(
        patient=patient, regimen=regimen, start_on=start_on, prescribed_by=by, now=now, **options
    ).prescription


def database_url_for_other_processes() -> str:
    """The URL of the database this test session really uses (pytest-django's test database),
    for a `manage.py` subprocess or a worker process to connect to."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path=f"/{name}"))
