import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token

from accounts import forms, services
from accounts.client import client_ip
from accounts.models import User
from accounts.selectors import user_has_two_factor
from accounts.throttle import throttle_hit

RECOVERY_CODES_SESSION_KEY = "_fresh_recovery_codes"
ROLE_HOMES = {
    User.Role.PATIENT: "schedules:today",
    User.Role.NURSE: "clinics:dashboard",
    User.Role.CLINIC_ADMIN: "clinics:settings",
}


@login_required
def home(request):
    """Each role lands on its own home."""
    return redirect(ROLE_HOMES[request.user.role])


class LoginView(auth_views.LoginView):
    form_class = forms.LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, with at most PASSWORD_RESET_LIMIT_PER_CLIENT requests an hour from one client
    address. A client over its limit is told to wait: that says nothing about any account,
    as every request counts, whatever address it names. (The form counts per address.)"""

    def form_valid(self, form):
        verdict = throttle_hit(
            "password-reset-client",
            client_ip(self.request) or "unknown",
            limit=settings.PASSWORD_RESET_LIMIT_PER_CLIENT,
        )
        if not verdict.allowed:
            form.add_error(
                None,
                ngettext(
                    "Too many password resets were asked for from your network in the last "
                    "hour. Please try again in %(minutes)d minute.",
                    "Too many password resets were asked for from your network in the last "
                    "hour. Please try again in %(minutes)d minutes.",
                    verdict.retry_minutes,
                )
                % {"minutes": verdict.retry_minutes},
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


@login_required
def two_factor_overview(request):
    return _two_factor_page(request, forms.TwoFactorDisableForm(request=request))


def _two_factor_page(request, disable_form, status: int = 200):
    context = {
        "enabled": user_has_two_factor(request.user),
        "codes_left": services.recovery_codes_remaining(user=request.user),
        "disable_form": disable_form,
    }
    return render(request, "accounts/two_factor.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    if user_has_two_factor(request.user):
        return redirect("accounts:two_factor")
    device = services.totp_device_pending(user=request.user)
    form = forms.SetupTokenForm(request.POST or None)
    if form.is_valid():
        try:
            codes = services.two_factor_enable(
                user=request.user, device=device, token=form.cleaned_data["token"]
            )
        except ValidationError as exc:
            form.add_error("token", exc)
        else:
            otp_login(request, device)
            request.session[RECOVERY_CODES_SESSION_KEY] = codes
            messages.success(request, _("Two-factor authentication is on."))
            # The codes are shown once, before anything else; `next` is carried along.
            return redirect(_with_next(request, "accounts:recovery_codes"))
    context = {
        "form": form,
        "qr_svg": segno.make(device.config_url, error="m").svg_inline(scale=5, border=2),
        "secret": services.totp_secret(device),
    }
    return render(request, "accounts/two_factor_setup.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    if request.user.is_verified():
        return redirect(_next_or(request, "home"))
    form = forms.TokenForm(request.POST or None)
    if form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"])
        if device is None:
            form.add_error(
                "token",
                _("That code is not right. Use the newest code from your app, or a recovery code."),
            )
        else:
            otp_login(request, device)
            return redirect(_next_or(request, "home"))
    return render(request, "accounts/two_factor_verify.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def recovery_codes(request):
    if not user_has_two_factor(request.user):
        return redirect("accounts:two_factor_setup")
    form = forms.RecoveryCodesForm(
        request.POST if request.method == "POST" else None, request=request
    )
    if form.is_valid():
        request.session[RECOVERY_CODES_SESSION_KEY] = services.recovery_codes_regenerate(
            user=request.user
        )
        messages.success(request, _("New recovery codes made; the old ones no longer work."))
        return redirect("accounts:recovery_codes")
    codes = request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    context = {
        "codes": codes,
        "continue_url": _next_or(request, "home"),
        "codes_left": services.recovery_codes_remaining(user=request.user),
        "form": form,
    }
    return render(request, "accounts/recovery_codes.html", context)


@login_required
@require_http_methods(["POST"])
def two_factor_disable(request):
    """Off only with the password typed again; staff cannot turn it off at all."""
    if request.user.requires_two_factor:
        messages.error(request, _("Your role requires two-factor authentication; it stays on."))
        return redirect("accounts:two_factor")
    form = forms.TwoFactorDisableForm(request.POST, request=request)
    if not form.is_valid():
        return _two_factor_page(request, form)
    try:
        services.two_factor_disable(user=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("Two-factor authentication is off."))
    return redirect("accounts:two_factor")


def _safe_next(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def _next_or(request, fallback: str) -> str:
    return _safe_next(request) or reverse(fallback)


def _with_next(request, url_name: str) -> str:
    next_url = _safe_next(request)
    return reverse(url_name) + (f"?{urlencode({'next': next_url})}" if next_url else "")
