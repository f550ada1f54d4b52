"""The patient's channels on their reminder settings page. Email addresses and phone numbers:
adding one (a code is sent to it at once), typing that code back, asking for a new one,
turning one that stopped working back on, removing one, and a test notification. Browser
push: this browser's subscription, posted as JSON by static/js/push.js, and taken back."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.http.request import RawPostDataException
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import role_required
from accounts.models import User
from portal.forms.reminder_settings import ChannelConfirmForm, EmailChannelForm, SmsChannelForm
from portal.views.reminder_settings import settings_page
from reminders import selectors
from reminders.models import Channel
from reminders.services import channels as channel_services
from reminders.services import confirmation
from reminders.services.relevance import zone_of_user
from schedules.scheduler import zone_for

PATIENT = User.Role.PATIENT


@role_required(PATIENT)
@require_POST
def add_email(request):
    form = EmailChannelForm(request.POST)
    if form.is_valid():
        try:
            channel_services.channel_offer_check(user=request.user, kind=Channel.Kind.EMAIL)
            channel = channel_services.channel_add_email(
                user=request.user, address=form.cleaned_data["address"], now=timezone.now()
            )
        except ValidationError as exc:
            form.add_error("address", exc)
        else:
            return _added(request, channel)
    return settings_page(request, email_form=form)


@role_required(PATIENT)
@require_POST
def add_sms(request):
    if not selectors.sms_available():
        messages.error(request, _("Text messages are not available from this server."))
        return redirect("reminders:settings")
    form = SmsChannelForm(request.POST)
    if form.is_valid():
        try:
            channel_services.channel_offer_check(user=request.user, kind=Channel.Kind.SMS)
            channel = channel_services.channel_add_sms(
                user=request.user, phone=form.cleaned_data["phone"], now=timezone.now()
            )
        except ValidationError as exc:
            form.add_error("phone", exc)
        else:
            return _added(request, channel)
    return settings_page(request, sms_form=form)


def _added(request, channel: Channel):
    if channel.is_confirmed:
        # The person added an address that was already theirs and confirmed.
        messages.success(
            request, _("Reminders already go to %(channel)s.") % {"channel": _describe(channel)}
        )
    else:
        messages.success(request, _code_sent_message(channel))
    return _to_channel(channel)


def _code_sent_message(channel: Channel) -> str:
    return _(
        "We sent a 6-digit code to %(address)s. Type it in below to start your reminders "
        "there; it works for %(minutes)d minutes."
    ) % {"address": channel.address, "minutes": confirmation.CODE_LIFETIME.seconds // 60}


def _to_channel(channel: Channel):
    """Back to the settings page, scrolled to the channel (its code form, on a phone)."""
    return redirect(reverse("reminders:settings") + f"#channel-{channel.pk}")


@role_required(PATIENT)
@require_POST
def channel_confirm(request, channel_id: int):
    """The code sent to a new email address or phone number, typed back."""
    channel = get_object_or_404(selectors.channel_of(request.user), pk=channel_id)
    form = ChannelConfirmForm(request.POST, channel=channel)
    if form.is_valid():
        try:
            confirmation.channel_confirm(
                channel=channel, code=form.cleaned_data["code"], now=timezone.now()
            )
        except ValidationError as exc:
            form.add_error("code", exc)
        else:
            messages.success(
                request,
                _("Confirmed: your reminders now also go to %(channel)s.")
                % {"channel": _describe(channel)},
            )
            return _to_channel(channel)
    return settings_page(request, confirm_form=form)


@role_required(PATIENT)
@require_POST
def channel_send_code(request, channel_id: int):
    """A new code for an unconfirmed email address or phone number (the old one stops)."""
    channel = get_object_or_404(selectors.channel_of(request.user), pk=channel_id)
    if channel.kind == Channel.Kind.SMS and not selectors.sms_available():
        messages.error(request, _("Text messages are not available from this server."))
        return redirect("reminders:settings")
    try:
        channel = confirmation.channel_confirmation_send(channel=channel, now=timezone.now())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _code_sent_message(channel))
    return _to_channel(channel)


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
        channel = adders[channel.kind](request.user, channel.address)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("reminders:settings")
    # A channel that stopped working is confirmed again: the code proves messages reach it.
    return _added(request, channel)


def _add_email_again(user, address: str) -> Channel:
    return channel_services.channel_add_email(user=user, address=address, now=timezone.now())


def _add_sms_again(user, phone: str) -> Channel:
    return channel_services.channel_add_sms(user=user, phone=phone, now=timezone.now())


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


def _describe(channel: Channel) -> str:
    if channel.kind in (Channel.Kind.EMAIL, Channel.Kind.SMS):
        return f"{channel.get_kind_display()} {channel.address}"
    return str(channel.get_kind_display())


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
