"""The clinic admin's People page: who has an account, who is invited, and who is deactivated."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services as account_services
from accounts.decorators import role_required
from accounts.models import User
from clinics import selectors, services
from workspace.forms.people import InvitationForm
from workspace.viewing import workspace_patients_listed

ADMIN = User.Role.CLINIC_ADMIN


@role_required(ADMIN)
def people(request):
    clinic = selectors.clinic_managed_by(request.user)
    if clinic is None:
        return render(request, "workspace/no_clinic.html")
    people = list(selectors.people_of(clinic).annotate(patient_pk=F("patient__pk")))
    # Patients' names, addresses and last sign-in are their data: each listing is audited.
    workspace_patients_listed(
        request,
        [person.patient_pk for person in people if person.patient_pk is not None],
        summary="Listed on the People page",
    )
    context = {
        "clinic": clinic,
        "people": people,
        "invitations": selectors.invitations_open_in(clinic),
        "now": timezone.now(),
    }
    return render(request, "workspace/people.html", context)


@role_required(ADMIN)
@require_http_methods(["GET", "POST"])
def people_invite(request):
    clinic = selectors.clinic_managed_by(request.user)
    if clinic is None:
        return render(request, "workspace/no_clinic.html")
    initial = {"time_zone": clinic.time_zone, "dose_time": "09:00"}
    form = InvitationForm(request.POST or None, initial=initial)
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                clinic=clinic,
                created_by=request.user,
                now=timezone.now(),
                base_url=settings.SITE_URL,
                request=request,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                ngettext(
                    "Invitation sent to %(email)s. The link works for %(days)d day.",
                    "Invitation sent to %(email)s. The link works for %(days)d days.",
                    account_services.invitation_lifetime().days,
                )
                % {"email": invitation.email, "days": account_services.invitation_lifetime().days},
            )
            return redirect("clinics:people")
    context = {
        "clinic": clinic,
        "form": form,
        "days": account_services.invitation_lifetime().days,
    }
    return render(request, "workspace/people_invite.html", context)


@role_required(ADMIN)
@require_POST
def invitation_resend(request, invitation_id: int):
    invitation = _invitation(request, invitation_id)
    try:
        services.invitation_resend(
            invitation=invitation,
            actor=request.user,
            now=timezone.now(),
            base_url=settings.SITE_URL,
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("A new invitation link went to %(email)s; the previous link no longer works.")
            % {"email": invitation.email},
        )
    return redirect("clinics:people")


@role_required(ADMIN)
@require_POST
def invitation_revoke(request, invitation_id: int):
    invitation = _invitation(request, invitation_id)
    try:
        services.invitation_revoke(
            invitation=invitation, actor=request.user, now=timezone.now(), request=request
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("The invitation to %(email)s is revoked; its link no longer works.")
            % {"email": invitation.email},
        )
    return redirect("clinics:people")


@role_required(ADMIN)
@require_POST
def person_deactivate(request, user_id: int):
    clinic, person = _person(request, user_id)
    try:
        services.user_deactivate(
            user=person, clinic=clinic, actor=request.user, now=timezone.now(), request=request
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _(
                "%(name)s is deactivated and signed out everywhere. Their history stays; "
                "reactivate them to let them sign in again."
            )
            % {"name": person.display_name},
        )
    return redirect("clinics:people")


@role_required(ADMIN)
@require_POST
def person_reactivate(request, user_id: int):
    clinic, person = _person(request, user_id)
    try:
        services.user_reactivate(
            user=person, clinic=clinic, actor=request.user, now=timezone.now(), request=request
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(name)s can sign in again.") % {"name": person.display_name})
    return redirect("clinics:people")


def _person(request, user_id: int):
    """The admin's clinic and someone of it; anyone else answers 404 (section 5)."""
    clinic = selectors.clinic_managed_by(request.user)
    if clinic is None:
        raise Http404
    return clinic, get_object_or_404(selectors.people_of(clinic), pk=user_id)


def _invitation(request, invitation_id: int):
    """An open invitation of the admin's own clinic, or 404."""
    clinic = selectors.clinic_managed_by(request.user)
    if clinic is None:
        raise Http404
    return get_object_or_404(selectors.invitations_open_in(clinic), pk=invitation_id)
