"""The patient's reminder settings page: the channels with their codes, the reminder timing
(lead time, quiet hours), and the time zone and dose time. `settings_page` draws it for every
view that posts to it, with the form that failed (the channel views too: channels.py)."""

from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import role_required
from accounts.models import User
from clinics.selectors import patient_of
from clinics.services import patient_update_details
from portal.forms.reminder_settings import (
    ChannelConfirmForm,
    EmailChannelForm,
    PreferenceForm,
    SmsChannelForm,
    TimingForm,
)
from reminders import selectors
from reminders.models import Channel
from reminders.services import channels as channel_services
from reminders.services import confirmation
from reminders.services.preferences import lead_minutes_offered_to, preference_update
from reminders.services.relevance import zone_of_user
from schedules.scheduler import zone_for

PATIENT = User.Role.PATIENT


@role_required(PATIENT)
def settings(request):
    patient = get_object_or_404(patient_of(request.user))
    channel_services.channels_ensure_for_owner(user=request.user)
    return settings_page(request, patient=patient)


@role_required(PATIENT)
@require_POST
def preferences(request):
    form = PreferenceForm(request.POST, **_lead_choices(request.user))
    if form.is_valid():
        try:
            preference_update(user=request.user, now=timezone.now(), **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your reminder timing is saved."))
            return redirect("reminders:settings")
    return settings_page(request, preference_form=form)


@role_required(PATIENT)
@require_POST
def timing(request):
    """Time zone and preferred dose time: only future doses move (clinical rules 2.8)."""
    patient = get_object_or_404(patient_of(request.user))
    form = TimingForm(request.POST)
    if form.is_valid():
        try:
            patient_update_details(
                patient=patient, actor=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _(
                    "Your time zone and dose time are saved. Your future doses follow them; "
                    "doses already taken, skipped or missed stay as they were."
                ),
            )
            return redirect("reminders:settings")
    return settings_page(request, timing_form=form)


def settings_page(request, *, patient=None, **bound):
    """The settings page; a form that failed validation is passed in bound, with its errors
    (also for the channel views)."""
    user = request.user
    patient = patient or get_object_or_404(patient_of(user))
    preference = selectors.preference_of(user)
    channels = _channels_with_codes(user, confirm_form=bound.get("confirm_form"))
    context = {
        "patient": patient,
        "channels": channels,
        "sms_available": selectors.sms_available(),
        "push_available": selectors.push_available(),
        # What the clinic offers for new channels; channels of other kinds keep working.
        "kinds_offered": patient.clinic.channel_kinds_offered,
        "push_offered": patient.clinic.offers_push,
        "vapid_public_key": django_settings.VAPID_PUBLIC_KEY,
        "push_messages": _push_messages(),
        "email_form": bound.get("email_form") or EmailChannelForm(),
        "sms_form": bound.get("sms_form") or SmsChannelForm(),
        "preference_form": bound.get("preference_form")
        or PreferenceForm(
            initial={
                "lead_minutes": preference.lead_minutes,
                "quiet_start": preference.quiet_start,
                "quiet_end": preference.quiet_end,
            },
            **_lead_choices(user),
        ),
        "timing_form": bound.get("timing_form")
        or TimingForm(initial={"time_zone": patient.time_zone, "dose_time": patient.dose_time}),
        "error_items": _error_items(form for form in bound.values() if form.errors),
        "unread": selectors.inbox_unread_count(user),
        "fallback_kinds": channel_services.FALLBACK_KINDS,
        "fallback_count": selectors.fallback_count(user),
    }
    return render(request, "portal/reminder_settings.html", context, status=200)


def _channels_with_codes(user, *, confirm_form) -> list[Channel]:
    """The person's channels; each unconfirmed one that is on with what its card shows: its
    code form (the one just posted, with its errors, for that channel) and until when its
    code works, in the person's own time."""
    now = timezone.now()
    zone = zone_for(zone_of_user(user))
    channels = list(selectors.channels_of(user))
    for channel in channels:
        channel.waits_for_code = channel.enabled and not channel.is_confirmed
        if not channel.waits_for_code:
            continue
        posted = confirm_form is not None and confirm_form.channel.pk == channel.pk
        channel.confirm_form = confirm_form if posted else ChannelConfirmForm(channel=channel)
        channel.code_sent = channel.confirmation_expires_at is not None
        channel.code_works = confirmation.confirmation_code_waiting(channel, now=now)
        if channel.code_works:
            local = channel.confirmation_expires_at.astimezone(zone)
            channel.code_works_until = formats.time_format(local, "H:i")
    return channels


def _error_items(failed) -> list[tuple[str, str]]:
    """The error summary's lines: the id each links to (the field, or the form for an error
    of the whole form) and the message."""
    items = []
    for form in failed:
        for field, errors in form.errors.items():
            target = form.helper.form_id if field == NON_FIELD_ERRORS else form[field].auto_id
            items.extend((target, error) for error in errors)
    return items


def _lead_choices(user) -> dict:
    """The clinic's lead times for the form, and the person's own (kept even if not offered)."""
    offered = lead_minutes_offered_to(user) or []
    return {"offered": offered, "current": selectors.preference_of(user).lead_minutes}


def _push_messages() -> dict[str, str]:
    """What static/js/push.js says, in the person's language."""
    return {
        "on": _("Notifications are on for this device."),
        "off": _("Notifications are off for this device."),
        "starting": _("Turning on notifications…"),
        "stopping": _("Turning off notifications…"),
        "unsupported": _(
            "This browser cannot show notifications from this app. On an iPhone or iPad, add "
            "the app to your Home Screen first and open it from there. Your email reminders "
            "keep coming."
        ),
        "denied": _(
            "Notifications are blocked for this site. To get them, allow notifications for "
            "this site in your browser's settings, then try again. Your email reminders keep "
            "coming."
        ),
        "dismissed": _(
            "You did not allow notifications, so they are still off. Press the button again "
            "to allow them."
        ),
        "failed": _(
            "Notifications could not be turned on or off just now. Check your internet "
            "connection and try again."
        ),
    }
