"""The patient's own details form, and the time zones every form offers."""

from zoneinfo import available_timezones

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import SubmitHelperMixin

# Plain forms, not ModelForms: validating a ModelForm writes into its instance, and the
# services need the record as it was to audit the change.


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(available_timezones())]


class PatientDetailsForm(SubmitHelperMixin, forms.Form):
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        help_text=_("Your doses are due at your preferred time in this time zone."),
    )
    dose_time = forms.TimeField(
        label=_("Preferred dose time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("The time of day you would like to take your doses."),
    )
