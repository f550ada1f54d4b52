from base64 import b32encode

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"


def totp_device_pending(*, user) -> TOTPDevice:
    """The user's not-yet-confirmed authenticator, created on first visit to the setup page."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)


def totp_secret(device: TOTPDevice) -> str:
    """The shared secret in the base32 form authenticator apps accept when typed in."""
    return b32encode(device.bin_key).decode().rstrip("=")


@transaction.atomic
def two_factor_enable(*, user, device: TOTPDevice, token: str) -> list[str]:
    """Confirm the authenticator with a code from it; returns fresh recovery codes."""
    if device.user_id != user.pk or device.confirmed:
        raise ValidationError(_("This authenticator is not waiting to be set up."))
    if not device.verify_token(token):
        raise ValidationError(
            _("That code is not right. Check the time on your phone and try the newest code.")
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    return recovery_codes_regenerate(user=user)


@transaction.atomic
def recovery_codes_regenerate(*, user) -> list[str]:
    """Replace every recovery code with ten new single-use ones."""
    static, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    static.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    return codes


@transaction.atomic
def two_factor_disable(*, user) -> None:
    """Patients may turn two-factor off; staff may not."""
    if user.requires_two_factor:
        raise ValidationError(_("Your role requires two-factor authentication; it stays on."))
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def recovery_codes_remaining(*, user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()
