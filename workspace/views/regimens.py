"""The regimens a nurse or clinic admin may prescribe: the library and the clinic's own
templates, each with a schedule preview for a chosen start. Changing a template is
`regimen_editor`'s.

`list` here is the page (URL `regimens:list`), so this module writes a list as `[*...]` and
keeps its annotations unevaluated (`list[dict]` names the built-in type).
"""

from __future__ import annotations

from datetime import datetime

from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from accounts.decorators import role_required
from accounts.models import User
from clinics.selectors import clinics_of
from schedules.preview import regimen_preview
from schedules.scheduler import zone_for
from schedules.selectors import regimens_listed_for
from workspace.forms.preview import PreviewForm

WORKSPACE_ROLES = (User.Role.NURSE, User.Role.CLINIC_ADMIN)


@role_required(*WORKSPACE_ROLES)
def list(request):
    regimens = regimens_listed_for(request.user)
    context = {
        "library": [regimen for regimen in regimens if regimen.is_library],
        "templates": [regimen for regimen in regimens if not regimen.is_library],
        "can_manage": request.user.is_clinic_admin,
    }
    return render(request, "workspace/regimens/list.html", context)


@role_required(*WORKSPACE_ROLES)
def detail(request, regimen_id: int):
    """A regimen's phases and, for a chosen start, time and zone, its dated schedule: the
    same code as `manage.py schedule_preview`."""
    regimen = get_object_or_404(regimens_listed_for(request.user), pk=regimen_id)
    form = PreviewForm(
        request.GET if "start_on" in request.GET else None, initial=_preview_defaults(request.user)
    )
    preview = None
    if form.is_valid():
        preview = regimen_preview(
            regimen,
            start_on=form.cleaned_data["start_on"],
            until=form.cleaned_data["until"],
            at=form.cleaned_data["dose_time"],
            zone_name=form.cleaned_data["time_zone"],
        )
    phases = [*regimen.phases.all()]
    context = {
        "regimen": regimen,
        "phases": phases,
        "form": form,
        "preview": preview,
        "rows": _rows(preview, phases, regimen) if preview else [],
        "can_manage": request.user.is_clinic_admin,
    }
    return render(request, "workspace/regimens/detail.html", context)


def _preview_defaults(user) -> dict:
    clinic = clinics_of(user).first()
    zone = clinic.time_zone if clinic else "UTC"
    return {
        "start_on": timezone.now().astimezone(zone_for(zone)).date(),
        "dose_time": "09:00",
        "time_zone": zone,
    }


def _rows(preview: dict, phases, regimen) -> list[dict]:
    by_position = {phase.position: phase for phase in phases}
    rows = []
    for dose in preview["doses"]:
        phase = by_position[dose["phase"]]
        volume = regimen.medication.volume_ml(phase.amount) if phase.is_injected else None
        rows.append(
            {**dose, "local": datetime.fromisoformat(dose["due"]), "phase": phase, "volume": volume}
        )
    return rows
