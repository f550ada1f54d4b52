"""The nurse's flag queue: the list, one flag with its context, resolving and assigning.

`list` here is the page (URL `flag_queue:list`); this module needs no other list."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import role_required
from accounts.models import User
from config.pagination import page_of
from flags.models import Flag, SymptomReport
from flags.services import flag_assign, flag_resolve
from workspace import flag_queue
from workspace.dashboard import dashboard_rows
from workspace.forms.flags import FlagAssignForm, FlagResolveForm, QueueFilterForm
from workspace.viewing import workspace_object_view, workspace_patients_listed

PAGE_SIZE = 50


@role_required(User.Role.NURSE)
def list(request):
    form = QueueFilterForm(request.GET or None)
    filters = (
        form.filters()
        if form.is_bound
        else {"who": flag_queue.Who.ALL, "cause": "", "patient": None}
    )
    flags = flag_queue.flag_queue(
        request.user, who=filters["who"], cause=filters["cause"], patient_id=filters["patient"]
    )
    page = page_of(request, flags, size=PAGE_SIZE)
    patient = page.object_list[0].patient if filters["patient"] and page.object_list else None
    workspace_patients_listed(
        request, [flag.patient_id for flag in page.object_list], summary="Listed in the flag queue"
    )
    context = {
        "form": form,
        "page": page,
        "filters": filters,
        "now": timezone.now(),
        "patient": patient,
    }
    return render(request, "workspace/flags/queue.html", context)


@role_required(User.Role.NURSE)
def detail(request, flag_id: int):
    flag = _flag(request, flag_id, "Viewed flag")
    return _render_detail(request, flag)


@role_required(User.Role.NURSE)
@require_POST
def resolve(request, flag_id: int):
    flag = _flag(request, flag_id, "Viewed flag (resolving it)")
    form = FlagResolveForm(request.POST)
    if form.is_valid():
        try:
            flag_resolve(
                flag=flag, nurse=request.user, note=form.cleaned_data["note"], now=timezone.now()
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Flag resolved: %(cause)s for %(patient)s.")
                % {"cause": flag.get_cause_display(), "patient": flag.patient.user.display_name},
            )
            return redirect("flag_queue:list")
    return _render_detail(request, flag, resolve_form=form)


@role_required(User.Role.NURSE)
@require_POST
def assign(request, flag_id: int):
    flag = _flag(request, flag_id, "Viewed flag (assigning it)")
    form = FlagAssignForm(request.POST, colleagues=flag_queue.colleagues_for(flag))
    if form.is_valid():
        assignee = form.cleaned_data["assignee"]
        try:
            flag_assign(flag=flag, assignee=assignee, actor=request.user, now=timezone.now())
        except ValidationError as exc:
            form.add_error("assignee", exc)
        else:
            messages.success(
                request, _("Flag assigned to %(name)s.") % {"name": assignee.display_name}
            )
            return redirect("flag_queue:detail", flag_id=flag.pk)
    return _render_detail(request, flag, assign_form=form)


def _flag(request, flag_id: int, summary: str) -> Flag:
    """A flag of the nurse's clinics (404 otherwise); its patient's data is on every page
    that follows, so the look-up is audited."""
    return workspace_object_view(
        request,
        flag_queue.flags_visible_to(request.user),
        flag_id,
        patient="patient",
        summary=summary,
    )


def _render_detail(request, flag: Flag, *, resolve_form=None, assign_form=None):
    colleagues = flag_queue.colleagues_for(flag)
    initial = {"assignee": flag.assigned_to_id} if flag.assigned_to_id else {}
    [row] = dashboard_rows([flag.patient], now=timezone.now())
    resolve_form = resolve_form or FlagResolveForm()
    resolve_form.helper.form_action = reverse("flag_queue:resolve", args=[flag.pk])
    assign_form = assign_form or FlagAssignForm(initial=initial, colleagues=colleagues)
    assign_form.helper.form_action = reverse("flag_queue:assign", args=[flag.pk])
    context = {
        "flag": flag,
        "context": flag_queue.flag_context(flag),
        "row": row,
        "resolve_form": resolve_form,
        "assign_form": assign_form,
        "symptom_choices": SymptomReport.Symptom.choices,
    }
    return render(request, "workspace/flags/queue_detail.html", context)
