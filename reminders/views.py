"""The patient's reminder settings, browser notifications and inbox; the service worker and
the web app manifest that make the app installable and able to receive push."""

import json
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
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
    return _settings_page(request, patient=patient)


@role_required(PATIENT)
@require_POST
def add_email(request):
    form = forms.EmailChannelForm(request.POST)
    if form.is_valid():
        try:
            channel_services.channel_offer_check(user=request.user, kind=Channel.Kind.EMAIL)
            channel = channel_services.channel_add_email(
                user=request.user, address=form.cleaned_data["address"]
            )
        except ValidationError as exc:
            form.add_error("address", exc)
        else:
            messages.success(
                request, _("Reminders now also go to %(address)s.") % {"address": channel.address}
            )
            return redirect("reminders:settings")
    return _settings_page(request, email_form=form)


@role_required(PATIENT)
@require_POST
def add_sms(request):
    if not selectors.sms_available():
        messages.error(request, _("Text messages are not available from this server."))
        return redirect("reminders:settings")
    form = forms.SmsChannelForm(request.POST)
    if form.is_valid():
        try:
            channel_services.channel_offer_check(user=request.user, kind=Channel.Kind.SMS)
            channel = channel_services.channel_add_sms(
                user=request.user, phone=form.cleaned_data["phone"]
            )
        except ValidationError as exc:
            form.add_error("phone", exc)
        else:
            messages.success(
                request,
                _("Reminders now also go by text message to %(phone)s.")
                % {"phone": channel.address},
            )
            return redirect("reminders:settings")
    return _settings_page(request, sms_form=form)


@role_required(PATIENT)
@require_POST
def channel_enable(request, channel_id: int):
    """Turn an email or text channel that stopped working back on (adding it again does)."""
    channel = get_object_or_404(selectors.channel_of(request.user), pk=channel_id)
    adders = {Channel.Kind.EMAIL: _add_email_again, Channel.Kind.SMS: _add_sms_again}
    if channel.kind not in adders or (
        channel.kind == Channel.Kind.SMS and not selectors.sms_available()
    ):
        messages.error(request, _("This channel cannot be turned back on here."))
        return redirect("reminders:settings")
    try:
        adders[channel.kind](request.user, channel.address)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("Turned back on: %(channel)s.") % {"channel": _describe(channel)}
        )
    return redirect("reminders:settings")


def _add_email_again(user, address: str) -> None:
    channel_services.channel_add_email(user=user, address=address)


def _add_sms_again(user, phone: str) -> None:
    channel_services.channel_add_sms(user=user, phone=phone)


@role_required(PATIENT)
@require_POST
def channel_remove(request, channel_id: int):
    channel = get_object_or_404(selectors.channel_of(request.user), pk=channel_id)
    try:
        channel_services.channel_remove_by_owner(channel=channel, now=timezone.now())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Removed: %(channel)s. Reminders no longer go there.")
            % {"channel": _describe(channel)},
        )
    return redirect("reminders:settings")


@role_required(PATIENT)
@require_POST
def channel_test(request, channel_id: int):
    channel = get_object_or_404(selectors.channel_of(request.user), pk=channel_id)
    now = timezone.now()
    try:
        reminder = channel_services.channel_test_notify(channel=channel, now=now)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("reminders:settings")
    held_until = selectors.test_held_until(reminder, now=now)
    if held_until is not None:
        local = held_until.astimezone(zone_for(zone_of_user(request.user)))
        messages.info(
            request,
            _(
                "A test notification is waiting to go to %(channel)s. You are in your quiet "
                "hours, so it will arrive when they end, at %(time)s."
            )
            % {"channel": _describe(channel), "time": formats.time_format(local, "H:i")},
        )
    else:
        messages.success(
            request,
            _(
                "A test notification is on its way to %(channel)s. "
                "It usually arrives within a minute."
            )
            % {"channel": _describe(channel)},
        )
    return redirect("reminders:settings")


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
    return _settings_page(request, preference_form=form)


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
    return _settings_page(request, timing_form=form)


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
    endpoint = body.get("endpoint") if isinstance(body, dict) else None
    # PostgreSQL refuses a NUL byte even in a comparison; no endpoint holds one.
    if not isinstance(endpoint, str) or "\x00" in endpoint:
        return _json_error(_("Send the subscription's endpoint as JSON."), 400)
    channel = (
        selectors.channel_of(request.user).filter(kind=Channel.Kind.PUSH, address=endpoint).first()
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


def _settings_page(request, *, patient=None, **bound):
    """The settings page; a form that failed validation is passed in bound, with its errors."""
    user = request.user
    patient = patient or get_object_or_404(patient_of(user))
    preference = selectors.preference_of(user)
    context = {
        "patient": patient,
        "channels": selectors.channels_of(user),
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
        "failed_forms": [form for form in bound.values() if form.errors],
        "unread": selectors.inbox_unread_count(user),
        "fallback_kinds": channel_services.FALLBACK_KINDS,
        "fallback_count": selectors.fallback_count(user),
    }
    return render(request, "reminders/settings.html", context, status=200)


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


def _describe(channel: Channel) -> str:
    if channel.kind in (Channel.Kind.EMAIL, Channel.Kind.SMS):
        return f"{channel.get_kind_display()} {channel.address}"
    return str(channel.get_kind_display())


NOT_JSON = object()


def _json_body(request):
    """The request's JSON, or NOT_JSON: not UTF-8, not JSON, or nested too deep for the
    parser (a RecursionError, not a ValueError)."""
    try:
        return json.loads(request.body)
    except (ValueError, RecursionError):
        return NOT_JSON


def _json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)
