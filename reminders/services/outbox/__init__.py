"""The outbox: claiming due reminders, sending each exactly once, and recovering lost work.

A reminder moves pending -> queued (claimed by the sweep, its id handed to a task) ->
sending (claimed by the one worker that sends it) -> sent, or back to pending for a retry,
or to cancelled (the world changed) or dead (it kept failing). Every step is a conditional
update, so two beat processes, a task delivered twice or a worker killed half-way never
send a reminder twice; the reaper puts work that a dead worker or a restarted Redis lost
back to pending, so nothing is lost. A reminder whose sending raises something unforeseen (a
bug in its message, a transport raising what it does not classify) fails alone, as a
transient failure that backs off and ends as a dead letter a nurse sees, so it cannot hold
back the reminders batched with it; one that kills its worker outright is blamed by the
reaper, sent alone, and dead-lettered after CRASHES_AT_MOST stopped workers.

claims.py claims due reminders and batches them; sending.py sends a batch and records each
outcome; reaper.py puts lost work back; limits.py holds the leases, attempts and backoff.
"""

from reminders.services.outbox.claims import (
    BACKLOG_KEY,
    CLAIM_DUE_SQL,
    SWEEP_SOON_KEY,
    SWEEP_SOON_SECONDS,
    reminders_backlog_noted,
    reminders_batched,
    reminders_claim_due,
    reminders_queued_count,
    reminders_sweep_wanted,
)
from reminders.services.outbox.limits import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    CRASHES_AT_MOST,
    MAX_ATTEMPTS,
    PROCESS_STOPPING,
    QUEUED_LEASE,
    SENDING_LEASE,
)
from reminders.services.outbox.reaper import WorkerStopped, reminders_reap
from reminders.services.outbox.sending import (
    BATCH_ATTACHED,
    BATCH_RELATED,
    CLAIM_FOR_SENDING_SQL,
    MARK_SENT_SQL,
    RECHECK_AFTER,
    ClaimLost,
    UnexpectedSendError,
    reminder_send,
    reminders_send,
)

__all__ = [
    "BACKLOG_KEY",
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "BATCH_ATTACHED",
    "BATCH_RELATED",
    "CLAIM_DUE_SQL",
    "CLAIM_FOR_SENDING_SQL",
    "CRASHES_AT_MOST",
    "MARK_SENT_SQL",
    "MAX_ATTEMPTS",
    "PROCESS_STOPPING",
    "QUEUED_LEASE",
    "RECHECK_AFTER",
    "SENDING_LEASE",
    "SWEEP_SOON_KEY",
    "SWEEP_SOON_SECONDS",
    "ClaimLost",
    "UnexpectedSendError",
    "WorkerStopped",
    "reminder_send",
    "reminders_backlog_noted",
    "reminders_batched",
    "reminders_claim_due",
    "reminders_queued_count",
    "reminders_reap",
    "reminders_send",
    "reminders_sweep_wanted",
]
