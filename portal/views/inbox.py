"""The patient's inbox: every reminder sent to the app's own inbox, newest first, and one
message, marked read as it is opened."""

from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from accounts.decorators import role_required
from accounts.models import User
from config.pagination import page_of
from reminders import selectors
from reminders.services import channels as channel_services
from reminders.services.relevance import zone_of_user

PATIENT = User.Role.PATIENT
INBOX_PAGE_SIZE = 20


@role_required(PATIENT)
def inbox(request):
    page = page_of(request, selectors.inbox_of(request.user), size=INBOX_PAGE_SIZE)
    context = {"page": page, "zone": zone_of_user(request.user)}
    return render(request, "portal/inbox.html", context)


@role_required(PATIENT)
def inbox_message(request, reminder_id: int):
    reminder = get_object_or_404(
        selectors.inbox_of(request.user).select_related("channel"), pk=reminder_id
    )
    channel_services.reminder_mark_read(reminder=reminder, now=timezone.now())
    context = {"reminder": reminder, "zone": zone_of_user(request.user)}
    return render(request, "portal/inbox_message.html", context)
