"""The patient's long lists a page at a time: the inbox and past symptom reports read the page
asked for as every list page of both front ends does (config/pagination.py) and show one
pages bar (templates/portal/_pages.html), newest first."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from flags.services import symptom_report_create
from tests.portal.test_reminder_settings import sent_to_inbox

pytestmark = pytest.mark.django_db


def test_the_inbox_shows_twenty_messages_a_page_with_a_link_to_the_older(verified_client, patient):
    now = timezone.now()
    for n in range(21):
        sent_to_inbox(patient.user, subject=f"Dose {n:02d}", sent_at=now - timedelta(hours=n))
    client = verified_client(patient.user)

    first = client.get(reverse("reminders:inbox")).content.decode()
    assert "Dose 00" in first and "Dose 20" not in first
    assert 'aria-label="Inbox pages"' in first and "Page 1 of 2" in first
    assert 'href="?page=2">Older</a>' in first and "Newer</a>" not in first

    # A page past the end is the last one; one that is no number is the first.
    last = client.get(reverse("reminders:inbox"), {"page": "7"}).content.decode()
    assert "Dose 20" in last and "Page 2 of 2" in last and 'href="?page=1">Newer</a>' in last
    assert "Page 1 of 2" in client.get(reverse("reminders:inbox"), {"page": "x"}).content.decode()


def test_past_symptom_reports_show_twenty_a_page(verified_client, patient):
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    for n in range(21):
        symptom_report_create(
            patient=patient,
            symptoms=["tiredness"],
            notes=f"Note {n:02d}",
            now=start + timedelta(hours=n),
        )
    client = verified_client(patient.user)

    first = client.get(reverse("symptoms:report")).content.decode()
    assert "Note 20" in first and "Note 00" not in first
    assert 'aria-label="Report pages"' in first and "Page 1 of 2" in first
    second = client.get(reverse("symptoms:report"), {"page": "2"}).content.decode()
    assert "Note 00" in second and "Page 2 of 2" in second
