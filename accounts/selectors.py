"""Reading accounts: who has a second factor."""

from django.db.models import Exists, OuterRef, QuerySet
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User


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
