"""Deactivating and reactivating a clinic's people: nothing they did is ever deleted."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import sessions_end_for
from audit.models import AuditEvent
from audit.services import audit_record
from clinics.models import StaffMembership


@transaction.atomic
def user_deactivate(*, user: User, clinic, actor, now: datetime, request=None) -> User:
    """The person can no longer sign in and is signed out everywhere. Nothing they did is
    deleted: prescriptions, doses, messages and the audit log stay as they were."""
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot deactivate your own account."))
    _only_in(user, clinic, _("deactivate"))
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active"])
    ended = sessions_end_for(user=user, now=now)
    _audit_activity(
        user,
        actor,
        request,
        f"Deactivated {user.username}; {ended} session(s) ended",
        [True, False],
    )
    return user


@transaction.atomic
def user_reactivate(*, user: User, clinic, actor, now: datetime, request=None) -> User:
    _only_in(user, clinic, _("reactivate"))
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    _audit_activity(user, actor, request, f"Reactivated {user.username}", [False, True])
    return user


def _only_in(user: User, clinic, verb: str) -> None:
    """An account is one sign-in for every clinic a nurse works for: one clinic's admin must
    not lock a nurse out of another clinic (clinical rules section 5)."""
    if StaffMembership.objects.filter(user=user).exclude(clinic=clinic).exists():
        raise ValidationError(
            _(
                "%(name)s also works for another clinic, so only the person who runs this "
                "service can %(verb)s their account."
            )
            % {"name": user.display_name, "verb": verb}
        )


def _audit_activity(user: User, actor, request, summary: str, change: list[bool]) -> None:
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        target=user,
        patient=getattr(user, "patient", None) if user.is_patient else None,
        summary=summary,
        changes={"is_active": [str(change[0]), str(change[1])]},
        request=request,
    )
