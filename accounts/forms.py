import logging
from zoneinfo import ZoneInfo

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import forms as auth_forms
from django.core import validators
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.throttle import throttle_hit

log = logging.getLogger(__name__)


class SubmitHelperMixin:
    """Gives a form a crispy helper with one full-width submit button."""

    submit_label = _("Save")
    submit_class = "btn-lg w-100"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label, css_class=self.submit_class))


# A date and time typed in the patient's own time zone: the patient's dose forms and the
# workspace's clinic dose form both take one.
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=LOCAL_INPUT_FORMAT)


class InPatientZoneForm(forms.Form):
    """Times are typed in the patient's own time zone, whatever the server's."""

    def __init__(self, *args, zone: ZoneInfo, **kwargs):
        self.zone = zone
        super().__init__(*args, **kwargs)

    def full_clean(self):
        with timezone.override(self.zone):
            super().full_clean()


class LoginForm(SubmitHelperMixin, auth_forms.AuthenticationForm):
    submit_label = _("Sign in")

    error_messages = {
        "invalid_login": _(
            "That username and password do not match. Check them and try again; "
            "after several failed tries, sign-in from this device pauses for a while."
        ),
        "inactive": _("This account has been deactivated. Contact your clinic."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Django gives the field its max_length after building it, so nothing checked it: a
        # longer username went on to the lockout's log, 255 characters in the database (a 500).
        username = self.fields["username"]
        username.validators.append(validators.MaxLengthValidator(username.max_length))

    def get_invalid_login_error(self):
        """Django's backend refuses a deactivated account as if the password were wrong; the
        person who knows the password is told the real reason, so they call their clinic."""
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        deactivated = User.objects.filter(username=username, is_active=False).first()
        if deactivated is not None and password and deactivated.check_password(password):
            return forms.ValidationError(self.error_messages["inactive"], code="inactive")
        return super().get_invalid_login_error()


class TokenForm(SubmitHelperMixin, forms.Form):
    submit_label = _("Verify")

    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "autocapitalize": "off"}
        ),
    )

    def clean_token(self) -> str:
        return self.cleaned_data["token"].replace(" ", "").strip()


class SetupTokenForm(TokenForm):
    submit_label = _("Turn on two-factor authentication")

    token = forms.CharField(
        label=_("Code from your app"),
        max_length=8,
        help_text=_("After adding the account, type the 6-digit code your app shows."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class PasswordConfirmForm(SubmitHelperMixin, forms.Form):
    """The signed-in person's password again, before a change that weakens their account.

    It is checked as a sign-in is, through `authenticate`: a wrong one counts toward the
    sign-in lockout for that username from that address (django-axes), and once that is
    reached the answer is the "Sign-in paused" page, so a stolen session cannot be used to
    guess the password here either."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your password.")},
    )

    error_messages = {
        "password_incorrect": _(
            "That password is not right, so nothing was changed. After several wrong "
            "passwords, signing in pauses for a while."
        ),
    }

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        user = self.request.user
        checked = authenticate(self.request, username=user.get_username(), password=password)
        if checked is None or checked.pk != user.pk:
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return password


class TwoFactorDisableForm(PasswordConfirmForm):
    submit_label = _("Turn two-factor authentication off")
    submit_class = "btn-outline-danger w-100"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.form_action = reverse("accounts:two_factor_disable")


class RecoveryCodesForm(PasswordConfirmForm):
    submit_label = _("Make new recovery codes")


class PasswordChangeForm(SubmitHelperMixin, auth_forms.PasswordChangeForm):
    submit_label = _("Change password")


class PasswordResetForm(SubmitHelperMixin, auth_forms.PasswordResetForm):
    """Django's, sending at most PASSWORD_RESET_LIMIT_PER_ADDRESS links an hour to one
    address. Beyond that nothing is sent, and the page says exactly what it says otherwise,
    so it never tells whether an address has an account. (The view counts per client.)"""

    submit_label = _("Send reset link")

    def save(self, *args, **kwargs) -> None:
        email = self.cleaned_data["email"]
        verdict = throttle_hit(
            "password-reset-address",
            email.strip().lower(),
            limit=settings.PASSWORD_RESET_LIMIT_PER_ADDRESS,
        )
        if not verdict.allowed:
            log.info("password reset not sent: the address asked too often this hour")
            return
        super().save(*args, **kwargs)


class SetPasswordForm(SubmitHelperMixin, auth_forms.SetPasswordForm):
    submit_label = _("Set new password")


class InvitationAcceptForm(SubmitHelperMixin, auth_forms.UserCreationForm):
    """Username and password (Django's validators, against the invitee's name and email, set
    on the unsaved instance). It only checks: `invitation_accept` makes the account, never
    `save()`."""

    submit_label = _("Create my account")

    class Meta(auth_forms.UserCreationForm.Meta):
        model = User
        fields = ("username",)
        help_texts = {
            "username": _("You sign in with this. Letters, digits and @ . + - _ only."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password1"].widget.attrs["autocomplete"] = "new-password"
        self.fields["password1"].label = _("Choose a password")
        self.fields["password2"].label = _("Type the password again")
