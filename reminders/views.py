"""The patient's reminder settings, browser notifications and inbox; the service worker and
the web app manifest that make the app installable and able to receive push. (Email addresses
and phone numbers, with their codes: views_channels.py.)"""

import json
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import role_required
from accounts.models import User
from clinics.selectors import patient_of
from clinics.services import patient_update_details
from reminders import forms, selectors
from reminders.models import Channel
from reminders.services import channels as channel_services
from reminders.services import confirmation
from reminders.services.preferences import lead_minutes_offered_to, preference_update
from reminders.services.relevance import zone_of_user
from schedules.scheduler import zone_for

PATIENT = User.Role.PATIENT
INBOX_PAGE_SIZE = 20
SERVICE_WORKER = "js/sw.js"
THEME_COLOUR = "#0b5394"


@role_required(PATIENT)
def reminder_settings(request):
    patient = get_object_or_404(patient_of(request.user))
    channel_services.channels_ensure_for_owner(user=request.user)
    return settings_page(request, patient=patient)


@role_required(PATIENT)
@require_POST
def preferences(request):
    form = forms.PreferenceForm(request.POST, **_lead_choices(request.user))
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
    form = forms.TimingForm(request.POST)
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


@role_required(PATIENT)
@require_POST
def push_subscribe(request):
    """The browser's PushSubscription as JSON, from static/js/push.js."""
    if not selectors.push_available():
        return _json_error(_("Browser notifications are not set up on this server."), 404)
    try:
        channel_services.channel_offer_check(user=request.user, kind=Channel.Kind.PUSH)
    except ValidationError as exc:
        return _json_error(" ".join(exc.messages), 403)
    subscription = _json_body(request)
    if subscription is NOT_JSON:
        return _json_error(_("The push subscription is not valid JSON."), 400)
    if not isinstance(subscription, dict):
        return _json_error(_("Send the push subscription as a JSON object."), 400)
    try:
        channel = channel_services.channel_add_push(user=request.user, subscription=subscription)
    except ValidationError as exc:
        return _json_error(" ".join(exc.messages), 400)
    messages.success(request, _("Notifications are on for this device."))
    return JsonResponse({"channel": channel.pk, "enabled": True}, status=201)


@role_required(PATIENT)
@require_POST
def push_unsubscribe(request):
    """{"endpoint": ...}: stop sending to this browser. Someone else's endpoint is not found."""
    body = _json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("endpoint"), str):
        return _json_error(_("Send the subscription's endpoint as JSON."), 400)
    channel = (
        selectors.channel_of(request.user)
        .filter(
            kind=Channel.Kind.PUSH,
            address__in=channel_services.push_endpoints_matching(body["endpoint"]),
        )
        .first()
    )
    if channel is None:
        return _json_error(_("This device is not receiving your notifications."), 404)
    channel_services.channel_remove_by_owner(channel=channel, now=timezone.now())
    messages.success(request, _("Notifications are off for this device."))
    return JsonResponse({"channel": channel.pk, "enabled": False})


@role_required(PATIENT)
def inbox(request):
    page = Paginator(selectors.inbox_of(request.user), INBOX_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "zone": zone_of_user(request.user)}
    return render(request, "reminders/inbox.html", context)


@role_required(PATIENT)
def inbox_message(request, reminder_id: int):
    reminder = get_object_or_404(
        selectors.inbox_of(request.user).select_related("channel"), pk=reminder_id
    )
    channel_services.reminder_mark_read(reminder=reminder, now=timezone.now())
    context = {"reminder": reminder, "zone": zone_of_user(request.user)}
    return render(request, "reminders/inbox_message.html", context)


@require_GET
@cache_control(no_cache=True)
def service_worker(request):
    """The service worker, served from the root so that its scope is the whole site."""
    response = HttpResponse(_service_worker_source(), content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/"
    return response


def _service_worker_source() -> bytes:
    # The source file through the finders (static/ in the checkout); in a deployment without
    # the sources, the collected copy under its unhashed name.
    path = finders.find(SERVICE_WORKER)
    if path:
        return Path(path).read_bytes()
    with staticfiles_storage.open(SERVICE_WORKER) as source:
        return source.read()


@require_GET
@cache_control(no_cache=True)
def web_app_manifest(request):
    """Lets the app be added to the home screen; iPhones deliver push only to such an app."""
    icons = [
        {"src": static(f"img/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
        for size in (192, 512)
    ]
    maskable = [{**icon, "purpose": "maskable"} for icon in icons]
    manifest = {
        "id": "/",
        "name": _("B12 Clinic"),
        "short_name": _("B12"),
        "description": _("Your vitamin B12 injections: reminders, doses and symptoms."),
        "lang": settings.LANGUAGE_CODE,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "icons": [*icons, *maskable],
    }
    return JsonResponse(
        manifest, content_type="application/manifest+json", json_dumps_params={"indent": 2}
    )


def settings_page(request, *, patient=None, **bound):
    """The settings page; a form that failed validation is passed in bound, with its errors
    (also for views_channels.py)."""
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
        "vapid_public_key": settings.VAPID_PUBLIC_KEY,
        "push_messages": _push_messages(),
        "email_form": bound.get("email_form") or forms.EmailChannelForm(),
        "sms_form": bound.get("sms_form") or forms.SmsChannelForm(),
        "preference_form": bound.get("preference_form")
        or forms.PreferenceForm(
            initial={
                "lead_minutes": preference.lead_minutes,
                "quiet_start": preference.quiet_start,
                "quiet_end": preference.quiet_end,
            },
            **_lead_choices(user),
        ),
        "timing_form": bound.get("timing_form")
        or forms.TimingForm(
            initial={"time_zone": patient.time_zone, "dose_time": patient.dose_time}
        ),
        "error_items": _error_items(form for form in bound.values() if form.errors),
        "unread": selectors.inbox_unread_count(user),
        "fallback_kinds": channel_services.FALLBACK_KINDS,
        "fallback_count": selectors.fallback_count(user),
    }
    return render(request, "reminders/settings.html", context, status=200)


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
        channel.confirm_form = confirm_form if posted else forms.ChannelConfirmForm(channel=channel)
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


NOT_JSON = object()


def _json_body(request):
    """The request's JSON, or NOT_JSON: not UTF-8, not JSON, or nested too deep for the
    parser (a RecursionError, not a ValueError)."""
    try:
        return json.loads(request.body)
    except (ValueError, RecursionError, RawPostDataException):
        # RawPostDataException: a form's body, already read as a form (by the CSRF check).
        return NOT_JSON


def _json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)
