import json
import re
from datetime import date, time, timedelta
from zoneinfo import available_timezones

from django.core.management.base import BaseCommand, CommandError

from schedules import bounds
from schedules.models import Regimen
from schedules.preview import regimen_preview

DEFAULT_DAYS = 400


class Command(BaseCommand):
    help = "Print a library protocol's doses and lab checks as one JSON object."

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def one_line_error(message: str):
            parser.exit(2, f"error: {message}\n")

        parser.error = one_line_error
        return parser

    def add_arguments(self, parser):
        parser.add_argument("slug", help="a protocol of the library, e.g. cyano-im-daily10-monthly")
        parser.add_argument("--start", help="first dose, YYYY-MM-DD")
        parser.add_argument(
            "--until", help="last day listed, YYYY-MM-DD (default: start + 400 days)"
        )
        parser.add_argument("--time", default="09:00", help="local time of each dose, HH:MM")
        parser.add_argument("--tz", default="UTC", help="IANA time zone, e.g. America/New_York")

    def handle(self, *args, slug, start, until, time, tz, **options):
        regimen = Regimen.objects.filter(slug=slug, clinic=None).first()
        if regimen is None:
            known = ", ".join(Regimen.objects.filter(clinic=None).values_list("slug", flat=True))
            raise CommandError(f"unknown protocol {slug!r}; the library has: {known}")
        if start is None:
            raise CommandError("--start is required (YYYY-MM-DD)")
        start_on = _bounded("--start", _date("--start", start), bounds.preview_start())
        until_on = _date("--until", until) if until else start_on + timedelta(days=DEFAULT_DAYS)
        if until_on < start_on:
            raise CommandError(f"--until {until} is before --start {start}")
        _bounded("--until", until_on, bounds.preview_until(start_on))
        if tz not in available_timezones():
            raise CommandError(f"--tz {tz!r} is not an IANA time zone")
        preview = regimen_preview(
            regimen, start_on=start_on, until=until_on, at=_time(time), zone_name=tz
        )
        self.stdout.write(json.dumps(preview))


def _date(option: str, value: str) -> date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


def _bounded(option: str, value: date, bound: bounds.Bound) -> date:
    if value not in bound:
        raise CommandError(f"{option} {value.isoformat()}: {bound.message}")
    return value


def _time(value: str) -> time:
    try:
        if not re.fullmatch(r"\d{2}:\d{2}", value):
            raise ValueError
        return time.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--time {value!r} is not a time (HH:MM)") from None
