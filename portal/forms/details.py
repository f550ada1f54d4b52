"""The patient's own details: their time zone and preferred dose time.

A plain form, not a ModelForm: validating a ModelForm writes into its instance, and the
service needs the record as it was to audit the change.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import SubmitHelperMixin
from clinics.validators import time_zone_choices


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
