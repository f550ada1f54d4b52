from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.seed import DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = "Create or reset the demo clinic and its people, and print their logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="seed even with DJANGO_DEBUG off (never on a real clinic's database)",
        )

    def handle(self, *args, allow_production: bool, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "refusing to load demo people with DJANGO_DEBUG off; pass --allow-production"
            )
        logins = demo_seed()
        self.stdout.write(self.style.SUCCESS("Demo clinic ready: Riverside Clinic"))
        self.stdout.write(f"Every demo user's password: {DEMO_PASSWORD}")
        for login in logins:
            line = f"  {login.username:<10} {login.role:<13} {login.name}"
            if login.totp_secret:
                line += f"   TOTP secret: {login.totp_secret}"
            self.stdout.write(line)
        self.stdout.write(
            "Staff sign in with a code from an authenticator app set up with their TOTP secret."
        )
