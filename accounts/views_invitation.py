"""The page an invitee opens from their email: choose a username and password, and go in."""

from django.contrib import messages
from django.contrib.auth import login, logout
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts import forms, services
from accounts.models import User
from accounts.services import InvitationUnusable

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@never_cache
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token: str):
    now = timezone.now()
    try:
        invitation = services.invitation_for_token(token=token, now=now)
    except InvitationUnusable as exc:
        return _unusable(request, exc)
    prospective = User(email=invitation.email, first_name=invitation.name, role=invitation.role)
    form = forms.InvitationAcceptForm(request.POST or None, instance=prospective)
    if form.is_valid():
        try:
            user = services.invitation_accept(
                token=token,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                now=now,
                request=request,
            )
        except InvitationUnusable as exc:
            return _unusable(request, exc)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if request.user.is_authenticated:
                logout(request)
            login(request, user, backend=MODEL_BACKEND)
            messages.success(
                request,
                _("Welcome to %(clinic)s. Your account is ready.")
                % {"clinic": invitation.clinic.name},
            )
            # Staff go on to set up two-factor authentication: TwoFactorRequiredMiddleware.
            return redirect("home")
    context = {"invitation": invitation, "form": form}
    return render(request, "accounts/invitation_accept.html", context)


def _unusable(request, exc: InvitationUnusable):
    # 404 for a link that never existed (or was replaced by a resend); 410 for one that did.
    status = 404 if exc.reason == InvitationUnusable.NOT_FOUND else 410
    context = {"reason": exc.reason, "invitation": exc.invitation}
    return render(request, "accounts/invitation_unusable.html", context, status=status)
