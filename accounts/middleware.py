from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.selectors import user_has_two_factor

LOGIN_AT_SESSION_KEY = "_auth_login_at"
TOUCHED_AT_SESSION_KEY = "_touched_at"


def stamp_login_time(sender, request, user, **kwargs) -> None:
    """Receiver of `user_logged_in`: the absolute session lifetime counts from here, and so
    does the idle limit (a session signed in again keeps the data it had, its old stamps too)."""
    now = timezone.now().timestamp()
    request.session[LOGIN_AT_SESSION_KEY] = now
    request.session[TOUCHED_AT_SESSION_KEY] = now


class SessionLifetimeMiddleware:
    """Ends a session 12 hours after login, however active it has been.

    The 30-minute idle limit is Django's own SESSION_COOKIE_AGE: saving a session moves its
    expiry forward, and the time it was last saved is checked here as well. Saving it on
    every request (SESSION_SAVE_EVERY_REQUEST) would cost every page a database write;
    instead a session in use is saved when it was last saved more than SESSION_TOUCH_SECONDS
    ago, so the idle limit is 30 minutes, give or take that minute.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = timezone.now().timestamp()
            login_at = request.session.setdefault(LOGIN_AT_SESSION_KEY, now)
            if now - login_at > settings.SESSION_ABSOLUTE_LIFETIME.total_seconds():
                return _signed_out(
                    request, _("You were signed out after 12 hours. Please sign in again.")
                )
            # The store's own expiry ends an idle session too; this holds whatever the store
            # (a cached session lives until its cache entry expires, on the cache's clock).
            touched_at = request.session.get(TOUCHED_AT_SESSION_KEY, now)
            if now - touched_at > settings.SESSION_COOKIE_AGE:
                return _signed_out(
                    request,
                    _("You were signed out after 30 minutes without use. Please sign in again."),
                )
        response = self.get_response(request)
        _touch(request)
        return response


def _signed_out(request, why: str):
    """End the session and send the person to sign in again, saying why."""
    logout(request)
    messages.info(request, why)
    return redirect(_login_url(request))


def _touch(request) -> None:
    """Mark a session in use as changed (so it is saved, with a new expiry) at most once every
    SESSION_TOUCH_SECONDS."""
    session = getattr(request, "session", None)
    if session is None or session.is_empty() or not session.session_key:
        return
    now = timezone.now().timestamp()
    if now - session.get(TOUCHED_AT_SESSION_KEY, 0) >= settings.SESSION_TOUCH_SECONDS:
        session[TOUCHED_AT_SESSION_KEY] = now


class TwoFactorRequiredMiddleware:
    """Staff must enrol and use a second factor; a patient who turned it on must use it.

    Until then, only the two-factor pages, logout and static files answer.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not user.is_verified() and not _exempt(request.path):
            if user_has_two_factor(user):
                return redirect(_with_next("accounts:two_factor_verify", request))
            if user.requires_two_factor:
                messages.info(
                    request, _("Your role requires two-factor authentication. Set it up to go on.")
                )
                return redirect(_with_next("accounts:two_factor_setup", request))
        return self.get_response(request)


def _exempt(path: str) -> bool:
    exempt = (
        reverse("accounts:two_factor_setup"),
        reverse("accounts:two_factor_verify"),
        reverse("accounts:logout"),
        settings.STATIC_URL,
        # The browser fetches these on its own; a redirect would only break them.
        reverse("service_worker"),
        reverse("web_app_manifest"),
        reverse("health"),
    )
    return path.startswith(exempt)


def _with_next(url_name: str, request) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': request.get_full_path()})}"


def _login_url(request) -> str:
    return f"{reverse(settings.LOGIN_URL)}?{urlencode({'next': request.get_full_path()})}"
