"""The clinic admin's clinic settings form.

A plain form, not a ModelForm: validating a ModelForm writes into its instance, and the
service needs the clinic as it was to audit the change.
"""

from crispy_forms.layout import HTML, Fieldset, Layout
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import SubmitHelperMixin
from clinics.validators import time_zone_choices


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
