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


def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone name, as a form's choices ("America/New_York" reads "America/New York")."""
    return [(name, name.replace("_", " ")) for name in sorted(available_timezones())]
