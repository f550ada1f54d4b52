from zoneinfo import available_timezones

from crispy_forms.layout import HTML, Fieldset, Layout
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import SubmitHelperMixin
from accounts.models import User

# Plain forms, not ModelForms: validating a ModelForm writes into its instance, and the
# services need the record as it was to audit the change.


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(available_timezones())]


class ClinicSettingsForm(SubmitHelperMixin, forms.Form):
    submit_label = _("Save clinic settings")

    name = forms.CharField(label=_("Name"), max_length=120)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        help_text=_("New patients start in this time zone; each patient can change their own."),
    )
    escalate_missed_loading = forms.BooleanField(
        label=_("Flag any missed loading dose"), required=False
    )
    escalate_missed_maintenance_streak = forms.IntegerField(
        label=_("Flag this many missed maintenance doses in a row"),
        min_value=1,
        max_value=12,
        help_text=_("From 1 to 12."),
    )
    escalate_overdue_days = forms.IntegerField(
        label=_("Flag a dose this many days overdue"),
        min_value=1,
        max_value=60,
        help_text=_("From 1 to 60 days."),
    )
    offers_email = forms.BooleanField(label=_("Email"), required=False)
    offers_sms = forms.BooleanField(label=_("Text messages"), required=False)
    offers_push = forms.BooleanField(label=_("Browser notifications"), required=False)
    offers_inbox = forms.BooleanField(
        label=_("In-app inbox (always on: every patient keeps somewhere reminders arrive)"),
        required=False,
        disabled=True,
        initial=True,
    )
    reminder_lead_minutes = forms.CharField(
        label=_("Lead times offered, in minutes before a dose"),
        max_length=200,
        help_text=_(
            "Separated by commas, each from 0 to 1440 (one day), e.g. 0, 15, 30, 60, 120, 1440."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.layout = Layout(
            Fieldset(_("Name and time zone"), "name", "time_zone"),
            Fieldset(
                _("When a missed dose becomes a flag for a nurse"),
                "escalate_missed_loading",
                "escalate_missed_maintenance_streak",
                "escalate_overdue_days",
            ),
            Fieldset(
                _("Reminder channels patients may add"),
                HTML(
                    '<p class="form-text">'
                    + str(
                        _(
                            "Email or text messages must stay on: they reach a patient away "
                            "from the app."
                        )
                    )
                    + "</p>"
                ),
                "offers_email",
                "offers_sms",
                "offers_push",
                "offers_inbox",
            ),
            Fieldset(_("Reminder lead times patients may choose"), "reminder_lead_minutes"),
        )

    def clean_reminder_lead_minutes(self) -> list[int]:
        text = self.cleaned_data["reminder_lead_minutes"]
        parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
        if not parts:
            raise forms.ValidationError(_("Enter at least one lead time, e.g. 60."))
        bad = [part for part in parts if not part.isdigit()]
        if bad:
            raise forms.ValidationError(
                _("Lead times are whole numbers of minutes; this is not: %(value)s."),
                params={"value": bad[0]},
            )
        return [int(part) for part in parts]


class InvitationForm(SubmitHelperMixin, forms.Form):
    submit_label = _("Send invitation")

    ROLE_CHOICES = [
        (User.Role.NURSE, User.Role.NURSE.label),
        (User.Role.PATIENT, User.Role.PATIENT.label),
        (User.Role.CLINIC_ADMIN, User.Role.CLINIC_ADMIN.label),
    ]

    role = forms.ChoiceField(label=_("Invite as"), choices=ROLE_CHOICES, widget=forms.RadioSelect)
    name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(
        label=_("Email address"), widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    time_zone = forms.ChoiceField(
        label=_("Patient's time zone"),
        choices=time_zone_choices,
        required=False,
        help_text=_("Patients only: their doses fall due in this time zone."),
    )
    dose_time = forms.TimeField(
        label=_("Patient's preferred dose time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Patients only: the time of day their doses are due."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == User.Role.PATIENT:
            if not cleaned.get("time_zone"):
                self.add_error("time_zone", _("Choose the patient's time zone."))
            if cleaned.get("dose_time") is None and "dose_time" not in self.errors:
                self.add_error("dose_time", _("Enter the patient's preferred dose time."))
        return cleaned
