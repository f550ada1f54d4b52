"""The outbox: planning, claiming, re-checking, sending once, retrying, dead letters, reaping."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine

from flags.models import Flag
from reminders.channels.base import PermanentDeliveryError, TransientDeliveryError
from reminders.models import Channel, Preference, Reminder
from reminders.services import outbox, planning
from schedules.models import InjectionEvent, Prescription, Regimen
from schedules.services import injection_event_log, lab_result_record, prescription_create
from tests.reminders.support import channel_in_use, invited_patient

pytestmark = pytest.mark.django_db

Kind, Status = Reminder.Kind, Reminder.Status
NEW_YORK = "America/New_York"


class RecordingTransport:
    """Stands in for email/push/SMS: records what it delivers, honours the commit contract."""

    def __init__(self):
        self.delivered = []
        self.fail_with = None

    def deliver(self, message, *, commit):
        if self.fail_with is not None:
            raise self.fail_with
        commit()
        self.delivered.append(message)
        return f"provider-{len(self.delivered)}"


def prescribe(patient, nurse, slug="b12-im-ileal-resection", start=date(2026, 3, 8), zone=NEW_YORK):
    patient.time_zone = zone
    patient.save()
    return prescription_create(
        patient=patient,
        regimen=Regimen.objects.get(slug=slug, clinic=None),
        start_on=start,
        prescribed_by=nurse,
        now=datetime(2026, 3, 1, tzinfo=UTC),
        dose_time=time(9, 0),
        time_zone=zone,
    ).prescription


def run_until(moment: datetime) -> list[str]:
    """What beat and the workers do, up to `moment`: plan, claim, send; the statuses."""
    planning.reminders_plan(now=moment)
    return [
        outbox.reminder_send(reminder_id=i, now=moment)
        for i in outbox.reminders_claim_due(now=moment)
    ]


def test_planning_writes_the_coming_the_due_and_two_overdue_reminders_once(patient, nurse, email):
    prescribe(patient, nurse)
    assert planning.reminders_plan(now=datetime(2026, 3, 7, 12, tzinfo=UTC)) == 2
    assert planning.reminders_plan(now=datetime(2026, 3, 7, 12, tzinfo=UTC)) == 0
    # Monthly: on time within +/- 3 days (2.9), so the nudges fall on the 9th and 10th.
    assert planning.reminders_plan(now=datetime(2026, 3, 9, 12, tzinfo=UTC)) == 2
    assert planning.reminders_plan(now=datetime(2026, 3, 10, 12, tzinfo=UTC)) == 0
    reminders = Reminder.objects.order_by("due_at")
    assert [r.kind for r in reminders] == [
        Kind.DOSE_UPCOMING,
        Kind.DOSE_DUE,
        Kind.DOSE_OVERDUE,
        Kind.DOSE_OVERDUE,
    ]
    window_end = datetime(2026, 3, 12, 4, tzinfo=UTC)  # midnight ending 11 March, New York
    nudges = [r.due_at for r in reminders][2:]
    assert all(datetime(2026, 3, 8, 13, tzinfo=UTC) < at < window_end for at in nudges)


def test_a_dose_at_nine_on_the_day_clocks_change_is_reminded_once_at_the_right_instant(
    patient, nurse, email, transport
):
    """8 March 2026: New York springs forward at 02:00, so 09:00 local is 13:00 UTC (2.5)."""
    prescribe(patient, nurse)
    with time_machine.travel(datetime(2026, 3, 8, 12, 59, tzinfo=UTC), tick=False):
        run_until(datetime(2026, 3, 8, 12, 59, tzinfo=UTC))
        due = Reminder.objects.get(kind=Kind.DOSE_DUE)
        assert due.due_at == datetime(2026, 3, 8, 13, tzinfo=UTC)
        assert due.status == Status.PENDING
    for minute in range(0, 5):
        run_until(datetime(2026, 3, 8, 13, minute, tzinfo=UTC))
    due.refresh_from_db()
    assert due.status == Status.SENT and due.sent_at == datetime(2026, 3, 8, 13, tzinfo=UTC)
    assert [m.subject for m in transport.delivered].count("Your B12 dose is due now") == 1


def test_the_message_says_what_to_inject_and_where(patient, nurse, email, transport):
    prescribe(patient, nurse)
    run_until(datetime(2026, 3, 8, 13, tzinfo=UTC))
    due = next(m for m in transport.delivered if m.subject == "Your B12 dose is due now")
    assert "Cyanocobalamin 1000 mcg (1.00 mL), intramuscular injection" in due.text
    assert "Where: Left upper arm (deltoid)" in due.text
    assert "Sunday 8 March, 09:00 (America/New_York)" in due.text
    assert "<li>" in due.html


def test_low_platelets_add_the_needle_guidance_and_very_low_ones_say_do_not_inject(
    patient, nurse, email, transport
):
    prescribe(patient, nurse)
    recorded = datetime(2026, 3, 3, tzinfo=UTC)
    lab_result_record(
        patient=patient,
        taken_on=date(2026, 3, 1),
        platelets=Decimal("40"),
        recorded_by=nurse,
        now=recorded,
    )
    run_until(datetime(2026, 3, 8, 12, tzinfo=UTC))
    assert "25-27G" in transport.delivered[-1].text
    lab_result_record(
        patient=patient,
        taken_on=date(2026, 3, 2),
        platelets=Decimal("20"),
        recorded_by=nurse,
        now=recorded,
    )
    run_until(datetime(2026, 3, 8, 13, tzinfo=UTC))
    assert "do NOT inject at home" in transport.delivered[-1].text


def test_a_dose_logged_early_gets_no_due_now_reminder(patient, nurse, email, transport):
    rx = prescribe(patient, nurse)
    run_until(datetime(2026, 3, 8, 12, tzinfo=UTC))  # the coming-dose reminder goes
    event = rx.events.get(sequence=0)
    logged = datetime(2026, 3, 8, 12, 30, tzinfo=UTC)
    injection_event_log(event=event, given_at=logged, actor=patient.user, now=logged)
    statuses = run_until(datetime(2026, 3, 8, 13, tzinfo=UTC))
    assert statuses == [Status.CANCELLED]
    assert [m.subject for m in transport.delivered] == ["Your B12 dose is due at 09:00"]
    cancelled = Reminder.objects.get(kind=Kind.DOSE_DUE)
    assert "no longer planned" in cancelled.last_error


def test_a_paused_prescription_gets_no_reminder(patient, nurse, email, transport):
    rx = prescribe(patient, nurse)
    planning.reminders_plan(now=datetime(2026, 3, 8, 7, tzinfo=UTC))
    Prescription.objects.filter(pk=rx.pk).update(status=Prescription.Status.PAUSED)
    run_until(datetime(2026, 3, 8, 13, tzinfo=UTC))
    assert transport.delivered == []
    assert set(Reminder.objects.values_list("status", flat=True)) >= {Status.CANCELLED}


def test_quiet_hours_hold_a_reminder_until_they_end_then_release_it(
    patient, nurse, email, transport
):
    """The coming-dose reminder at 08:00 New York falls in quiet hours 22:00-08:30."""
    prescribe(patient, nurse)
    Preference.objects.create(user=patient.user, quiet_start=time(22), quiet_end=time(8, 30))
    assert run_until(datetime(2026, 3, 8, 12, tzinfo=UTC)) == ["held"]
    held = Reminder.objects.get(kind=Kind.DOSE_UPCOMING)
    assert held.status == Status.PENDING
    assert held.send_after == datetime(2026, 3, 8, 12, 30, tzinfo=UTC)  # 08:30 EDT
    assert run_until(datetime(2026, 3, 8, 12, 29, tzinfo=UTC)) == []
    assert run_until(datetime(2026, 3, 8, 12, 30, tzinfo=UTC)) == [Status.SENT]
    assert len(transport.delivered) == 1


def test_a_reminder_claimed_twice_is_sent_once(patient, nurse, email, transport):
    prescribe(patient, nurse)
    now = datetime(2026, 3, 8, 13, tzinfo=UTC)
    planning.reminders_plan(now=now)
    ids = outbox.reminders_claim_due(now=now)
    assert outbox.reminders_claim_due(now=now) == []
    results = [outbox.reminder_send(reminder_id=i, now=now) for i in ids + ids]
    assert results.count(Status.SENT) == len(ids) and results.count("not-claimed") == len(ids)
    assert len(transport.delivered) == len(ids)


def test_a_transient_failure_retries_with_capped_backoff_then_dead_letters(
    patient, nurse, email, transport
):
    prescribe(patient, nurse)
    transport.fail_with = TransientDeliveryError("connection refused")
    moment = datetime(2026, 3, 8, 13, tzinfo=UTC)
    planning.reminders_plan(now=moment)
    reminder = Reminder.objects.get(kind=Kind.DOSE_DUE)
    Reminder.objects.exclude(pk=reminder.pk).delete()
    delays = []
    for _ in range(outbox.MAX_ATTEMPTS):
        outbox.reminders_claim_due(now=moment)
        outbox.reminder_send(reminder_id=reminder.pk, now=moment)
        reminder.refresh_from_db()
        if reminder.status == Status.DEAD:
            break
        delays.append((reminder.send_after - moment).total_seconds())
        moment = reminder.send_after
    assert delays == [30, 60, 120, 240, 480]
    assert reminder.status == Status.DEAD and "connection refused" in reminder.last_error
    flag = Flag.objects.get(cause=Flag.Cause.REMINDERS_FAILING)
    assert flag.patient == patient


def test_a_permanent_failure_disables_the_channel_and_tells_the_patient_elsewhere(
    patient, nurse, email, transport
):
    inbox = channel_in_use(user=patient.user, kind=Channel.Kind.INBOX)
    prescribe(patient, nurse)
    moment = datetime(2026, 3, 8, 12, tzinfo=UTC)
    planning.reminders_plan(now=moment)
    upcoming = Reminder.objects.get(kind=Kind.DOSE_UPCOMING, channel=email)
    transport.fail_with = PermanentDeliveryError("550 mailbox unavailable")
    outbox.reminders_claim_due(now=moment)
    outbox.reminder_send(reminder_id=upcoming.pk, now=moment)
    email.refresh_from_db()
    assert not email.enabled and "550" in email.disabled_reason
    assert not Reminder.objects.filter(channel=email, status=Status.PENDING).exists()
    notice = Reminder.objects.get(kind=Kind.CHANNEL_DISABLED)
    assert notice.channel == inbox and notice.urgent
    assert Flag.objects.filter(cause=Flag.Cause.REMINDERS_FAILING, patient=patient).count() == 1


def test_the_reaper_returns_lost_work_and_leaves_fresh_work_alone(patient, nurse, email, transport):
    prescribe(patient, nurse)
    now = datetime(2026, 3, 8, 13, tzinfo=UTC)
    planning.reminders_plan(now=now)
    ids = outbox.reminders_claim_due(now=now)
    assert outbox.reminders_reap(now=now + timedelta(seconds=10)) == 0
    assert outbox.reminders_reap(now=now + outbox.QUEUED_LEASE + timedelta(seconds=1)) == len(ids)
    assert set(Reminder.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        Status.PENDING
    }


def test_a_worker_that_dies_before_its_point_of_no_return_has_its_reminder_sent_later_once(
    patient, nurse, email, transport, monkeypatch
):
    prescribe(patient, nurse)
    now = datetime(2026, 3, 8, 13, tzinfo=UTC)
    planning.reminders_plan(now=now)
    reminder_id = outbox.reminders_claim_due(now=now)[0]

    class Killed(BaseException):
        pass

    transport.fail_with = Killed()
    with pytest.raises(Killed):
        outbox.reminder_send(reminder_id=reminder_id, now=now)
    assert Reminder.objects.get(pk=reminder_id).status == Status.SENDING
    transport.fail_with = None
    later = now + outbox.SENDING_LEASE + timedelta(seconds=1)
    assert outbox.reminders_reap(now=later) >= 1
    statuses = [
        outbox.reminder_send(reminder_id=i, now=later)
        for i in outbox.reminders_claim_due(now=later)
    ]
    assert Reminder.objects.get(pk=reminder_id).status == Status.SENT
    assert statuses.count(Status.SENT) == len(transport.delivered)


def test_a_disabled_channel_gets_nothing(patient, nurse, email, transport):
    prescribe(patient, nurse)
    planning.reminders_plan(now=datetime(2026, 3, 8, 12, tzinfo=UTC))
    Channel.objects.filter(pk=email.pk).update(enabled=False)
    run_until(datetime(2026, 3, 8, 13, tzinfo=UTC))
    assert transport.delivered == []


def test_events_of_another_patient_never_reach_this_patients_channels(
    patient, other_patient, nurse, email, transport
):
    other_email = channel_in_use(
        user=other_patient.user, kind=Channel.Kind.EMAIL, address="other@example.com"
    )
    prescribe(patient, nurse)
    run_until(datetime(2026, 3, 8, 13, tzinfo=UTC))
    assert {m.to for m in transport.delivered} == {"p@example.com"}
    assert not Reminder.objects.filter(channel=other_email).exists()
    assert InjectionEvent.objects.filter(prescription__patient=other_patient).count() == 0


def test_an_invited_patient_with_no_channels_gets_the_inbox_and_their_email_by_default(
    clinic, nurse, transport
):
    patient = invited_patient(clinic, email="ivy@example.com")
    prescribe(patient, nurse)
    planning.reminders_plan(now=datetime(2026, 3, 8, 12, tzinfo=UTC))
    kinds = set(Channel.objects.filter(user=patient.user).values_list("kind", flat=True))
    assert kinds == {Channel.Kind.INBOX, Channel.Kind.EMAIL}
    # The invitation's link was followed from that address: it is confirmed.
    assert set(
        Reminder.objects.filter(kind=Kind.DOSE_UPCOMING).values_list("channel__kind", flat=True)
    ) == {Channel.Kind.INBOX, Channel.Kind.EMAIL}


def test_an_account_address_nobody_confirmed_gets_no_reminders_and_no_code_unasked(
    patient, nurse, transport, mailoutbox
):
    """An account made without an invitation (the Django admin, a script): its address waits
    for a code the patient asks for; the inbox gets the reminders meanwhile."""
    prescribe(patient, nurse)
    planning.reminders_plan(now=datetime(2026, 3, 8, 12, tzinfo=UTC))
    email = Channel.objects.get(user=patient.user, kind=Channel.Kind.EMAIL)
    assert (email.address, email.enabled, email.confirmed_at) == (patient.user.email, True, None)
    upcoming = Reminder.objects.filter(kind=Kind.DOSE_UPCOMING)
    assert set(upcoming.values_list("channel__kind", flat=True)) == {Channel.Kind.INBOX}
    assert mailoutbox == []


def test_push_channels_get_no_reminders_while_push_is_not_configured(
    patient, nurse, email, transport, settings
):
    settings.VAPID_PRIVATE_KEY = ""
    channel_in_use(
        user=patient.user,
        kind=Channel.Kind.PUSH,
        address="https://push.example/1",
        push_keys={"p256dh": "x", "auth": "y"},
    )
    prescribe(patient, nurse)
    planning.reminders_plan(now=datetime(2026, 3, 8, 12, tzinfo=UTC))
    assert set(Reminder.objects.values_list("channel__kind", flat=True)) == {Channel.Kind.EMAIL}
