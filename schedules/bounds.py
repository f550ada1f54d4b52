"""How far a date a person types may go: each bound once, with its reason (issue 12).

Forms check them, so that the message stands beside the field, and the services check them
again, since a service is also called from elsewhere. Every message names the bound: "The
first dose must be between 5 Dec 2025 and 5 Dec 2027." Far dates are also what breaks code:
year 9999 plus a few days overflows Python's dates (a 500), and a start in year 1 had a
prescription write 24,333 past doses in one request.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Dates that are only shown, never kept with a patient's treatment (a regimen's preview, a
# visit report's period): any day of this century. Nothing in the app is older than 2000,
# and dates this side of 9999 leave room for the arithmetic that follows them.
CALENDAR_FIRST = date(2000, 1, 1)
CALENDAR_LAST = date(2099, 12, 31)
# A preview or a report is something to read: at most about three years at a time.
SPAN_MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Bound:
    """The days from `first` to `last`, both included, for the date called `what`."""

    what: str | Promise
    first: date
    last: date

    def __contains__(self, day: date) -> bool:
        return self.first <= day <= self.last

    @property
    def message(self) -> str:
        return _("%(what)s must be between %(first)s and %(last)s.") % {
            "what": self.what,
            "first": day_text(self.first),
            "last": day_text(self.last),
        }

    def check(self, day: date) -> date:
        """`day`, or the ValidationError naming the bound."""
        if day not in self:
            raise ValidationError(self.message, code="out_of_bounds")
        return day

    def widget_attrs(self) -> dict[str, str]:
        """The bound as the browser's date picker reads it (a hint; the form checks)."""
        return {"min": self.first.isoformat(), "max": self.last.isoformat()}


def day_text(day: date) -> str:
    return formats.date_format(day, "j M Y")


def years_from(day: date, years: int) -> date:
    """The same day `years` later (or earlier); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def prescription_start(today: date) -> Bound:
    """A course is prescribed to start now: a year back covers one begun on paper before
    the app, a year ahead one planned at a visit. Its doses are written from the start on,
    so a start further back would write years of past doses at once."""
    return Bound(gettext_lazy("The first dose"), years_from(today, -1), years_from(today, 1))


def lab_taken_on(today: date, treatment_start: date | None) -> Bound:
    """A sample is taken today or earlier (in the patient's calendar), and at the earliest a
    year before treatment started: the baseline that led to it. Conservative choice for a
    patient with no treatment yet: a year back from today."""
    start = min(treatment_start or today, today)
    return Bound(gettext_lazy("The sample date"), years_from(start, -1), today)


def phase_end_on(phase_start: date, today: date) -> Bound:
    """No further improvement is recorded on a day of the phase that has come: from the
    prescription's start to today (2.7)."""
    return Bound(gettext_lazy("The day of no further improvement"), phase_start, today)


def check_dose_given_at(given_at: datetime, *, start_on: date, now: datetime, zone: ZoneInfo):
    """A dose is given at the latest now, and at the earliest on the prescription's first
    day in the patient's zone. Compared as instants: a time in year 1 or 9999 cannot always
    be moved into another zone (OverflowError)."""
    if given_at > now:
        raise ValidationError(_("The time given cannot be in the future."), code="out_of_bounds")
    if given_at < datetime.combine(start_on, time.min, tzinfo=zone):
        raise ValidationError(
            _("The time given cannot be before the prescription starts, on %(day)s.")
            % {"day": day_text(start_on)},
            code="out_of_bounds",
        )
    return given_at


def calendar(what: str | Promise) -> Bound:
    """A date only shown: a preview's first dose, a report's period (see CALENDAR_FIRST)."""
    return Bound(what, CALENDAR_FIRST, CALENDAR_LAST)


def preview_until(start_on: date) -> Bound:
    """A preview ends on or after its first dose, at most three years on."""
    return Bound(
        gettext_lazy("The end of the preview"), start_on, start_on + timedelta(days=SPAN_MAX_DAYS)
    )


def preview_start() -> Bound:
    return calendar(gettext_lazy("The first dose of the preview"))
