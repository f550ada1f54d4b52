from celery.exceptions import TimeoutError as CeleryTimeout
from django.core.management.base import BaseCommand, CommandError
from kombu.exceptions import OperationalError

from reminders.tasks import ping


class Command(BaseCommand):
    help = "Send a ping task through the broker and wait for a worker to answer it."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait")

    def handle(self, *args, timeout: float, **options):
        try:
            answer = ping.delay().get(timeout=timeout)
        except CeleryTimeout:
            raise CommandError(f"no Celery worker answered within {timeout:g} s") from None
        except OperationalError as exc:  # the broker itself is down or unreachable
            raise CommandError(f"could not reach the Celery broker: {exc}") from None
        self.stdout.write(f"worker {answer['hostname']} answered")
