"""The clinic admin's regimen templates: copy, edit (details and every phase in one form,
with a live preview), retire and restore. Nurses keep the read-only list and detail pages.

Templates of another clinic answer 404 like a record that does not exist (section 5); the
built-in library is read-only, and asking to change it offers a copy instead.
"""

from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import role_required
from accounts.models import User
from clinics.selectors import clinic_managed_by
from schedules.models import EndKind, Regimen
from schedules.preview import phases_preview
from schedules.scheduler import zone_for
from schedules.selectors import regimen_templates_managed_by, regimens_listed_for
from schedules.services import regimen_copy, regimen_restore, regimen_retire, regimen_update
from workspace.forms.regimens import (
    EditorPreviewForm,
    PhaseFormSet,
    RegimenCopyForm,
    RegimenEditor,
)

ADMIN = User.Role.CLINIC_ADMIN
FIRST_DATES = 3


@role_required(ADMIN)
def copy(request, regimen_id: int):
    """Copy a library protocol, or one of the clinic's own templates, under a new name."""
    clinic = clinic_managed_by(request.user)
    if clinic is None:
        return render(request, "workspace/no_clinic.html")
    sources = regimens_listed_for(request.user).filter(Q(clinic__isnull=True) | Q(clinic=clinic))
    source = get_object_or_404(sources, pk=regimen_id)
    initial = {"name": _("%(name)s (copy)") % {"name": source.name}}
    form = RegimenCopyForm(request.POST or None, initial=initial)
    if form.is_valid():
        made = regimen_copy(
            regimen=source, clinic=clinic, name=form.cleaned_data["name"], actor=request.user
        )
        messages.success(
            request, _("“%(name)s” is now a template of your clinic.") % {"name": made.name}
        )
        return redirect("regimens:edit", regimen_id=made.pk)
    return render(request, "workspace/regimens/copy.html", {"source": source, "form": form})


@role_required(ADMIN)
def edit(request, regimen_id: int):
    """The template's details and all its phases in one form. Buttons: save (all or
    nothing), preview (the same preview as the live one, without JavaScript), add a phase."""
    regimen, refusal = _template_or_refusal(request, regimen_id)
    if refusal is not None:
        return refusal
    if regimen.retired_at is not None:
        messages.info(request, _("This template is retired; restore it before changing it."))
        return redirect("regimens:detail", regimen_id=regimen.pk)
    data = request.POST if request.method == "POST" else None
    if data is not None and "add_phase" in data:
        data = _with_one_more_phase(data)
    editor = RegimenEditor(regimen, data, preview_initial=_preview_defaults(regimen))
    preview = None if data is not None else _saved_preview(regimen, editor)
    if data is not None and "add_phase" not in data and editor.is_valid():
        if "save" in data:
            return _save(request, regimen, editor)
        preview = _preview(editor)
    context = {"regimen": regimen, "editor": editor, "preview": preview}
    return render(request, "workspace/regimens/edit.html", context)


@role_required(ADMIN)
@require_POST
def preview(request, regimen_id: int):
    """The live preview: the editor's unsaved form, validated by the same editor as a save,
    then the preview `schedule_preview` prints, or every error by phase."""
    regimen = get_object_or_404(regimen_templates_managed_by(request.user), pk=regimen_id)
    editor = RegimenEditor(regimen, request.POST)
    phases_ok = editor.is_valid()
    preview = _preview(editor) if phases_ok else None
    if preview is None:
        body = {
            "valid": False,
            "errors": {
                "details": editor.details.errors.get_json_data(),
                "phases": editor.error_list(),
                "regimen": [*editor.errors, *editor.formset.non_form_errors()],
                "preview": editor.preview.errors.get_json_data(),
            },
        }
    else:
        body = {"valid": True, "preview": preview["data"]}
    body["html"] = render_to_string(
        "workspace/regimens/_preview.html", {"editor": editor, "preview": preview}, request
    )
    return JsonResponse(body)


@role_required(ADMIN)
def retire(request, regimen_id: int):
    """Retire after a confirmation: hidden from prescribing, kept for the prescriptions
    already made from it."""
    regimen, refusal = _template_or_refusal(request, regimen_id)
    if refusal is not None:
        return refusal
    if request.method == "POST":
        try:
            regimen_retire(regimen=regimen, actor=request.user, now=timezone.now())
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("“%(name)s” is retired: nurses can no longer prescribe it.")
                % {"name": regimen.name},
            )
        return redirect("regimens:detail", regimen_id=regimen.pk)
    running = regimen.prescriptions.exclude(status="stopped").count()
    context = {"regimen": regimen, "running": running}
    return render(request, "workspace/regimens/retire.html", context)


@role_required(ADMIN)
@require_POST
def restore(request, regimen_id: int):
    regimen, refusal = _template_or_refusal(request, regimen_id)
    if refusal is not None:
        return refusal
    try:
        regimen_restore(regimen=regimen, actor=request.user, now=timezone.now())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("“%(name)s” can be prescribed again.") % {"name": regimen.name})
    return redirect("regimens:detail", regimen_id=regimen.pk)


def _template_or_refusal(request, regimen_id: int) -> tuple[Regimen | None, HttpResponse | None]:
    """The admin's own template; for a library regimen, a refusal page that offers a copy;
    anything else is not found."""
    listed = get_object_or_404(regimens_listed_for(request.user), pk=regimen_id)
    if listed.is_library:
        context = {"regimen": listed}
        return None, render(request, "workspace/regimens/read_only.html", context, status=403)
    return get_object_or_404(regimen_templates_managed_by(request.user), pk=regimen_id), None


def _save(request, regimen, editor: RegimenEditor):
    details = editor.cleaned_details
    try:
        regimen_update(
            regimen=regimen,
            actor=request.user,
            now=timezone.now(),
            name=details["name"],
            medication=details["medication"],
            description=details["description"],
            phases=editor.phases,
        )
    except ValidationError as error:
        editor.errors.extend(error.messages)
        context = {"regimen": regimen, "editor": editor, "preview": None}
        return render(request, "workspace/regimens/edit.html", context)
    messages.success(request, _("“%(name)s” is saved.") % {"name": details["name"]})
    return redirect("regimens:detail", regimen_id=regimen.pk)


def _saved_preview(regimen, editor: RegimenEditor) -> dict | None:
    """On opening the editor: the saved phases, for the default sample."""
    sample = EditorPreviewForm(editor.preview.initial, prefix=None)
    if not sample.is_valid() or not regimen.phases.exists():
        return None
    phases = list(regimen.phases.order_by("position"))
    return _first_dates(regimen, phases, regimen.medication, sample.cleaned_data)


def _with_one_more_phase(data):
    """The no-JavaScript "Add a phase": the same form with one more, empty, phase."""
    data = data.copy()
    total = data.get("phases-TOTAL_FORMS", "")
    # str.isdigit() is true of "²" too, which int() refuses.
    total = int(total) if total.isascii() and total.isdigit() and len(total) < 6 else 0
    data["phases-TOTAL_FORMS"] = str(min(total + 1, PhaseFormSet.max_num))
    return data


def _preview_defaults(regimen) -> dict:
    zone = regimen.clinic.time_zone
    return {
        "start_on": timezone.now().astimezone(zone_for(zone)).date(),
        "dose_time": "09:00",
        "time_zone": zone,
    }


def _preview(editor: RegimenEditor) -> dict | None:
    """The preview of the editor's phases as entered, or None while the sample is invalid."""
    if not editor.preview.is_valid():
        return None
    medication = editor.cleaned_details["medication"]
    return _first_dates(editor.regimen, editor.phases, medication, editor.preview.cleaned_data)


def _first_dates(regimen, phases, medication, sample: dict) -> dict:
    """The first dates of each phase for the sample start, by `phases_preview`: the very
    function behind `schedule_preview` and the detail page."""
    data = phases_preview(
        phases,
        protocol=regimen.slug,
        medication_slug=medication.slug,
        start_on=sample["start_on"],
        until=sample["until"],
        at=sample["dose_time"],
        zone_name=sample["time_zone"],
    )
    by_phase = [[] for _ in phases]
    for dose in data["doses"]:
        by_phase[dose["phase"] - 1].append(datetime.fromisoformat(dose["due"]))
    rows = [
        {
            "number": number,
            "phase": phase,
            "first": dates[:FIRST_DATES],
            "count": len(dates),
            "after_open": any(earlier.end_kind == EndKind.OPEN for earlier in phases[: number - 1]),
        }
        for number, (phase, dates) in enumerate(zip(phases, by_phase, strict=True), start=1)
    ]
    return {"data": data, "rows": rows, "sample": sample}
