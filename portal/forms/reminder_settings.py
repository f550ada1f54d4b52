"""The forms of the reminder settings page. They check shape; the services check the rules.

Several forms share one page, so each has its own action and its own submit button name
(crispy gives a button the id "submit-id-<name>", and ids must be unique on a page). They are
`novalidate`: the browser's own bubbles vanish, are hard to reach with a screen reader and
cannot say what this app means, so the server's messages and error summary speak instead.
"""

import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.forms.details import PatientDetailsForm


class ActionHelperMixin:
    """A crispy helper posting to `action` (a URL name) with one full-width submit button."""

    action = ""
    submit_name = ""
    submit_label = _("Save")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = reverse(self.action)
        self.helper.form_id = f"{self.submit_name}-form"
        self.helper.attrs = {"novalidate": ""}
        self.helper.add_input(Submit(self.submit_name, self.submit_label, css_class="w-100"))


class EmailChannelForm(ActionHelperMixin, forms.Form):
    action = "reminders:add_email"
    submit_name = "add-email"
    submit_label = _("Add email address")

    address = forms.CharField(
        label=_("Email address"),
        max_length=254,
        help_text=_("We send a code there; reminders go there once you type it in here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class SmsChannelForm(ActionHelperMixin, forms.Form):
    action = "reminders:add_sms"
    submit_name = "add-sms"
    submit_label = _("Add phone number")

    phone = forms.CharField(
        label=_("Mobile phone number"),
        max_length=32,
        help_text=_(
            "In international format, starting with + and the country code. We text a code "
            "to it; reminders go there once you type it in here."
        ),
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "placeholder": "+44 7700 900123"}
        ),
    )


class ChannelConfirmForm(forms.Form):
    """The code sent to one new email address or phone number. Several can wait on one page,
    so each form has the channel in its prefix (field ids), action and button name."""

    code = forms.CharField(
        max_length=16,
        error_messages={"required": _("Enter the 6-digit code from the message we sent.")},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autocapitalize": "off",
                "spellcheck": "false",
            }
        ),
    )

    def __init__(self, *args, channel, **kwargs):
        super().__init__(*args, prefix=f"channel-{channel.pk}", **kwargs)
        self.channel = channel
        self.fields["code"].label = _("Code sent to %(address)s") % {"address": channel.address}
        self.helper = FormHelper()
        self.helper.form_action = reverse("reminders:channel_confirm", args=[channel.pk])
        self.helper.form_id = f"confirm-{channel.pk}-form"
        self.helper.attrs = {"novalidate": ""}
        self.helper.add_input(Submit(f"confirm-{channel.pk}", _("Confirm"), css_class="w-100"))

    def clean_code(self) -> str:
        # People copy codes with spaces or a dash in the middle ("123 456").
        code = re.sub(r"[\s-]", "", self.cleaned_data["code"])
        if not re.fullmatch(r"[0-9]{6}", code):
            raise forms.ValidationError(
                _("The code is the 6 digits in the message we sent, e.g. 123456.")
            )
        return code


class PreferenceForm(ActionHelperMixin, forms.Form):
    action = "reminders:preferences"
    submit_name = "save-preferences"
    submit_label = _("Save reminder timing")

    lead_minutes = forms.TypedChoiceField(
        label=_("How long before a dose to remind me"),
        coerce=int,
        help_text=_("The lead times your clinic offers."),
        error_messages={
            "required": _("Choose how long before a dose to remind you."),
            "invalid_choice": _("Choose one of the lead times your clinic offers."),
        },
    )
    quiet_start = forms.TimeField(
        label=_("Quiet hours start"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": _("Enter the start of quiet hours as a time, e.g. 22:00.")},
    )
    quiet_end = forms.TimeField(
        label=_("Quiet hours end"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Leave both empty for no quiet hours."),
        error_messages={"invalid": _("Enter the end of quiet hours as a time, e.g. 07:00.")},
    )

    def __init__(self, *args, offered: list[int], current: int, **kwargs):
        """`offered`: the clinic's lead times. A current one it no longer offers stays a
        choice, so saving quiet hours never changes a patient's lead time behind their back."""
        super().__init__(*args, **kwargs)
        choices = [(minutes, lead_label(minutes)) for minutes in offered]
        if current not in offered:
            kept = _("%(lead)s (your current setting; no longer offered by your clinic)") % {
                "lead": lead_label(current)
            }
            choices = sorted([*choices, (current, kept)])
        self.fields["lead_minutes"].choices = choices


def lead_label(minutes: int) -> str:
    """60 -> "1 hour before", 90 -> "1 hour 30 minutes before", 1440 -> "1 day before"."""
    if minutes == 0:
        return str(_("At the dose time"))
    if minutes == 24 * 60:
        return str(_("1 day before"))
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours})
    if rest:
        parts.append(ngettext("%(count)d minute", "%(count)d minutes", rest) % {"count": rest})
    return _("%(lead)s before") % {"lead": " ".join(parts)}


class TimingForm(PatientDetailsForm):
    """The time zone and preferred dose time of "My details", on the reminder settings page."""

    action = "reminders:timing"
    submit_name = "save-timing"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_action = reverse(self.action)
        self.helper.form_id = f"{self.submit_name}-form"
        self.helper.attrs = {"novalidate": ""}
        self.helper.add_input(
            Submit(self.submit_name, _("Save time zone and dose time"), css_class="w-100")
        )
