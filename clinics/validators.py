from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def validate_time_zone(value: str) -> None:
    """Accept only IANA zone names (Europe/London), never offsets or abbreviations."""
    if value not in available_timezones():
        raise ValidationError(
            _("%(value)s is not a time zone name; choose one such as Europe/London."),
            params={"value": value},
            code="invalid_time_zone",
        )
