from django.db.models import Exists, OuterRef, Q, QuerySet
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Invitation, User
from clinics.models import StaffMembership


def user_has_two_factor(user) -> bool:
    """True once the user has confirmed an authenticator app."""
    return user_has_device(user, confirmed=True)


def with_two_factor(users: QuerySet[User]) -> QuerySet[User]:
    """Annotate `has_two_factor`, the answer of `user_has_two_factor`, in the same query: a
    confirmed device of either kind django-otp has installed here."""
    confirmed = {"user": OuterRef("pk"), "confirmed": True}
    return users.annotate(
        has_two_factor=Exists(TOTPDevice.objects.filter(**confirmed))
        | Exists(StaticDevice.objects.filter(**confirmed))
    )


def people_of(clinic) -> QuerySet[User]:
    """The clinic's nurses, admins and patients (active or not), for its admin's People page;
    anyone else's answers 404 through this queryset."""
    members = Q(memberships__clinic=clinic) | Q(patient__clinic=clinic)
    ids = User.objects.filter(members).values("pk")
    elsewhere = StaffMembership.objects.filter(user=OuterRef("pk")).exclude(clinic=clinic)
    return (
        with_two_factor(User.objects.filter(pk__in=ids))
        .annotate(in_another_clinic=Exists(elsewhere))
        .order_by("role", "last_name", "first_name", "username")
    )


def invitations_open_in(clinic) -> QuerySet[Invitation]:
    """Invitations neither accepted nor revoked, expired ones included (they can be resent)."""
    return Invitation.objects.filter(
        clinic=clinic, accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("created_by")
