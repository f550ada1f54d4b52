"""Inviting a person to a clinic by email: creating, resending and revoking invitations, the
emails they send, and what accepting one makes of the invitee here.

The invitation (`accounts.Invitation`) and the page its link opens are the accounts app's: it
checks the link, creates the account and marks the invitation used, then sends
`accounts.signals.invitation_accepted` inside its transaction. `invitation_fulfil`, connected
to that signal (clinics/receivers.py), makes the new account a patient or a member of the
invitation's clinic and writes the audit row, in the same transaction.
"""

import secrets
import smtplib
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _

from accounts.models import Invitation, User
from accounts.services import invitation_lifetime, invitation_token_hash
from audit.models import AuditEvent
from audit.services import audit_record, changes_between
from clinics.models import Patient, StaffMembership
from clinics.validators import validate_time_zone


@transaction.atomic
def invitation_create(
    *,
    clinic,
    role: str,
    email: str,
    name: str,
    created_by,
    now: datetime,
    base_url: str,
    time_zone: str = "",
    dose_time: time | None = None,
    request=None,
) -> Invitation:
    """Invite a person to the clinic by email; the email carries a link that expires."""
    email = _invitation_email_checked(clinic=clinic, email=email, now=now)
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("Enter the name of the person you are inviting.")})
    if role not in User.Role.values:
        raise ValidationError({"role": _("Choose nurse, patient or clinic admin.")})
    if role == User.Role.PATIENT:
        if dose_time is None:
            raise ValidationError({"dose_time": _("Enter the patient's preferred dose time.")})
        try:
            validate_time_zone(time_zone)
        except ValidationError as exc:
            raise ValidationError({"time_zone": exc.messages}) from None
    else:
        time_zone, dose_time = "", None
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        clinic=clinic,
        role=role,
        email=email,
        name=name,
        time_zone=time_zone,
        dose_time=dose_time,
        token_hash=invitation_token_hash(token),
        created_by=created_by,
        created_at=now,
        sent_at=now,
        expires_at=now + invitation_lifetime(),
    )
    # Field lengths and the address's shape; the uniqueness is the database's, just below.
    invitation.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():  # a savepoint: another admin may invite the same address
            invitation.save()
    except IntegrityError:
        raise ValidationError(
            {"email": _("%(email)s has just been invited by someone else.") % {"email": email}}
        ) from None
    audit_record(
        actor=created_by,
        action=AuditEvent.Action.CREATE,
        target=invitation,
        summary=f"Invited {email} to {clinic} as {invitation.get_role_display()}",
        changes={
            "email": ["", email],
            "role": ["", role],
            "expires_at": ["", str(invitation.expires_at)],
        },
        request=request,
    )
    _invitation_email_send(invitation=invitation, token=token, base_url=base_url)
    return invitation


@transaction.atomic
def invitation_resend(
    *, invitation: Invitation, actor, now: datetime, base_url: str, request=None
) -> Invitation:
    """Send a fresh link with a fresh expiry; the previous link stops working."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(
            _("This invitation was already accepted or revoked; it cannot be sent again.")
        )
    token = secrets.token_urlsafe(32)
    before = {"expires_at": str(invitation.expires_at)}
    invitation.token_hash = invitation_token_hash(token)
    invitation.sent_at = now
    invitation.expires_at = now + invitation_lifetime()
    invitation.save(update_fields=["token_hash", "sent_at", "expires_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=invitation,
        summary=f"Sent the invitation to {invitation.email} again",
        changes=changes_between(before, {"expires_at": str(invitation.expires_at)}),
        request=request,
    )
    _invitation_email_send(invitation=invitation, token=token, base_url=base_url)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor, now: datetime, request=None) -> Invitation:
    """The link stops working at once."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at:
        raise ValidationError(
            _("This invitation was already accepted; deactivate the person instead.")
        )
    if invitation.revoked_at:
        return invitation
    invitation.revoked_at = now
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=invitation,
        summary=f"Revoked the invitation to {invitation.email}",
        changes={"revoked_at": ["", str(now)]},
        request=request,
    )
    return invitation


@transaction.atomic
def invitation_fulfil(
    *, invitation: Invitation, user: User, request=None
) -> Patient | StaffMembership:
    """Make the invitee's new account what the invitation says: a patient of its clinic, with
    the time zone and dose time it carries, or a nurse or admin of it; with the audit row.

    The receiver of `accounts.signals.invitation_accepted`: it runs inside the acceptance's
    transaction, so an account never exists without its place in the clinic."""
    patient = None
    if invitation.role == User.Role.PATIENT:
        joined = patient = Patient.objects.create(
            user=user,
            clinic=invitation.clinic,
            time_zone=invitation.time_zone,
            dose_time=invitation.dose_time,
        )
    else:
        joined = StaffMembership.objects.create(user=user, clinic=invitation.clinic)
    audit_record(
        actor=user,
        action=AuditEvent.Action.CREATE,
        target=user,
        patient=patient,
        summary=f"Joined {invitation.clinic} as {user.get_role_display()} by invitation",
        changes={"username": ["", user.username], "role": ["", user.role]},
        request=request,
    )
    return joined


def _invitation_email_checked(*, clinic, email: str, now: datetime) -> str:
    """The address, refused when it already has an account or an open invitation here."""
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Enter a valid email address.")}) from None
    local, _at, domain = email.rpartition("@")
    email = f"{local}@{domain.lower()}"
    in_clinic = Q(memberships__clinic=clinic) | Q(patient__clinic=clinic)
    existing = User.objects.filter(in_clinic, email__iexact=email).order_by("-is_active").first()
    if existing is not None and existing.is_active:
        raise ValidationError(
            {"email": _("%(email)s already has an account in this clinic.") % {"email": email}}
        )
    if existing is not None:
        raise ValidationError(
            {
                "email": _(
                    "%(email)s has a deactivated account in this clinic: reactivate it on the "
                    "People page instead, so their history stays in one place."
                )
                % {"email": email}
            }
        )
    waiting = Invitation.objects.filter(
        clinic=clinic, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).first()
    if waiting is not None and waiting.expires_at > now:
        raise ValidationError(
            {
                "email": _(
                    "%(email)s already has an invitation waiting; send it again from the People "
                    "page if it did not arrive."
                )
                % {"email": email}
            }
        )
    if waiting is not None:
        raise ValidationError(
            {
                "email": _(
                    "An earlier invitation to %(email)s expired; send it again from the People "
                    "page."
                )
                % {"email": email}
            }
        )
    return email


def _invitation_email_send(*, invitation: Invitation, token: str, base_url: str) -> None:
    """Sent inside the transaction, after every write: if the mail server refuses it, nothing
    is saved and the admin is told, rather than an invitation existing that never arrived.
    (Should the commit fail after sending, the link answers "not found", which says so.)"""
    context = {
        "invitation": invitation,
        "link": base_url.rstrip("/") + reverse("accounts:invitation_accept", args=[token]),
        # Formatted here: the template's date filter would turn it back into UTC.
        "expires_text": formats.date_format(
            invitation.expires_at.astimezone(ZoneInfo(invitation.clinic.time_zone)),
            "l j F Y, H:i",
        ),
        "days": invitation_lifetime().days,
    }
    subject = " ".join(render_to_string("accounts/email/invitation_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("accounts/email/invitation.txt", context),
        to=[invitation.email],
    )
    message.attach_alternative(
        render_to_string("accounts/email/invitation.html", context), "text/html"
    )
    try:
        message.send()
    except (OSError, smtplib.SMTPException) as exc:
        raise ValidationError(
            _("The invitation email could not be sent (%(error)s). Nothing was saved; try again.")
            % {"error": exc}
        ) from exc
