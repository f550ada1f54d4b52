"""Recording a patient's lab results; flags follow the rules in `flags` (section 3)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from flags.models import Flag
from flags.selectors import flags_open_for_staff
from schedules.models import LabResult
from schedules.services import lab_result_enter, lab_taken_on_bound
from workspace.forms.actions import LabRecordForm
from workspace.views.actions import (
    add_service_error,
    back_to_record,
    context_for,
    current_prescription_of,
    local_now,
    nurses_only,
    patient_for,
    render_in_zone,
)

LAB_FLAG_CAUSES = ("b12_deficient", "b12_borderline", "homocysteine_high", "platelets_low")


@nurses_only
def lab_record(request, patient_id: int):
    patient = patient_for(request, patient_id)
    context = context_for(patient, current_prescription_of(patient))
    now = timezone.now()
    today = local_now(patient, now).date()
    form = LabRecordForm(
        request.POST or None,
        taken_on_bound=lab_taken_on_bound(patient, now),
        initial={"taken_on": today},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            entry = lab_result_enter(
                patient=patient,
                taken_on=data["taken_on"],
                recorded_by=request.user,
                now=now,
                b12=data["b12"],
                b12_unit=data["b12_unit"],
                homocysteine=data["homocysteine"],
                haemoglobin=data["haemoglobin"],
                platelets=data["platelets"],
                mma=data["mma"],
            )
        except ValidationError as exc:
            add_service_error(form, exc)
        else:
            if entry.repeated:
                messages.info(request, _("These results were already recorded a moment ago."))
            _recorded_messages(request, patient, entry.result)
            return back_to_record(patient)
    context |= {"form": form}
    return render_in_zone(request, "workspace/actions/lab_record.html", context, patient.time_zone)


def _recorded_messages(request, patient, result: LabResult) -> None:
    lines = []
    if result.b12_pg_ml is not None:
        converted = ""
        if result.b12_entered.endswith("pmol/L"):
            converted = " " + _("(entered as %(entered)s)") % {"entered": result.b12_entered}
        lines.append(
            _("B12 %(value)s pg/mL%(converted)s: %(status)s")
            % {
                "value": f"{result.b12_pg_ml.normalize():f}",
                "converted": converted,
                "status": result.get_b12_status_display(),
            }
        )
    if result.homocysteine_umol_l is not None:
        lines.append(
            _("homocysteine %(value)s umol/L: %(status)s")
            % {
                "value": f"{result.homocysteine_umol_l.normalize():f}",
                "status": result.get_homocysteine_status_display(),
            }
        )
    if result.platelets_10e9_l is not None:
        lines.append(
            _("platelets %(value)s x10^9/L: %(status)s")
            % {
                "value": f"{result.platelets_10e9_l.normalize():f}",
                "status": result.get_platelet_status_display(),
            }
        )
    summary = "; ".join(str(line) for line in lines) or _("values saved")
    messages.success(request, _("Lab results recorded: %(summary)s.") % {"summary": summary})
    _flag_messages(request, patient, result)


def _flag_messages(request, patient, result: LabResult) -> None:
    """Which flags this result raised and cleared, and which lab flags stay open."""
    # `patient` came through `patient_for`: the nurse may see its flags.
    overdue = Flag.objects.filter(patient=patient, cause=Flag.Cause.LAB_OVERDUE)
    if overdue.filter(details__cleared_by_lab_result=result.pk).exists():
        messages.success(
            request,
            _("Flag cleared: %(name)s. No lab check of this patient is overdue now.")
            % {"name": Flag.Cause.LAB_OVERDUE.label},
        )
    still_overdue = overdue.filter(
        resolved_at__isnull=True, details__narrowed_by_lab_result=result.pk
    ).first()
    if still_overdue is not None:
        messages.info(
            request,
            _("Flag still open: %(name)s. %(summary)s")
            % {"name": still_overdue.get_cause_display(), "summary": still_overdue.summary},
        )
    open_flags = list(
        flags_open_for_staff(request.user).filter(patient=patient, cause__in=LAB_FLAG_CAUSES)
    )
    if not open_flags:
        return
    raised = [flag for flag in open_flags if flag.details.get("lab_result") == result.pk]
    names = [_("%(name)s (raised now)") % {"name": flag.get_cause_display()} for flag in raised]
    names += [
        _("%(name)s (from an earlier result)") % {"name": flag.get_cause_display()}
        for flag in open_flags
        if flag not in raised
    ]
    messages.warning(
        request,
        _(
            "Open lab flags for this patient: %(names)s. A flag for an abnormal lab value is "
            "not cleared by a later normal result: it stays open until a nurse reviews it and "
            "resolves it with a note."
        )
        % {"names": ", ".join(str(name) for name in names)},
    )
