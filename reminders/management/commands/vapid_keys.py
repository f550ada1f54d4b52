from django.core.management.base import BaseCommand

from reminders.channels.push import new_key_pair


class Command(BaseCommand):
    help = "Print a fresh VAPID key pair for web push, as lines for the environment (.env)."

    def handle(self, *args, **options):
        private, public = new_key_pair()
        self.stdout.write(
            "# Web push keys. Keep the private key secret; changing it invalidates every\n"
            "# browser subscription made with the old public key.\n"
            f"VAPID_PRIVATE_KEY={private}\n"
            f"VAPID_PUBLIC_KEY={public}\n"
        )
