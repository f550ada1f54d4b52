"""How long each step of the outbox may take, and how often a reminder is tried."""

from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

MAX_ATTEMPTS = 6
# A reminder that was being sent when its worker stopped this many times is dead-lettered.
CRASHES_AT_MOST = 3
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(minutes=30)
# Work handed to the broker but not started by then was lost (a Redis restart keeps nothing).
QUEUED_LEASE = timedelta(seconds=settings.REMINDER_QUEUED_LEASE_SECONDS)
# A send still "sending" after this had its worker die before the point of no return. A slow
# worker that comes back after it finds its claim token gone and sends nothing.
SENDING_LEASE = timedelta(seconds=settings.REMINDER_SENDING_LEASE_SECONDS)

# Not one reminder's fault but the process being stopped (Celery's soft time limit, memory
# gone; SystemExit and KeyboardInterrupt are not Exceptions at all): the batch stops and the
# reaper puts back what it had not recorded.
PROCESS_STOPPING = (SoftTimeLimitExceeded, MemoryError)
