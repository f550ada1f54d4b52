from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import forms as auth_forms
from django.core import validators
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class SubmitHelperMixin:
    """Gives a form a crispy helper with one full-width submit button."""

    submit_label = _("Save")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", self.submit_label, css_class="btn-lg w-100"))


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


class RecoveryCodesForm(SubmitHelperMixin, forms.Form):
    """Carries only the CSRF token and a clear button: make new recovery codes."""

    submit_label = _("Make new recovery codes")


class PasswordChangeForm(SubmitHelperMixin, auth_forms.PasswordChangeForm):
    submit_label = _("Change password")


class PasswordResetForm(SubmitHelperMixin, auth_forms.PasswordResetForm):
    submit_label = _("Send reset link")


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
