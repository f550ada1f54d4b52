from zoneinfo import available_timezones

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import SubmitHelperMixin
from clinics.models import Clinic, Patient


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(available_timezones())]


class PatientDetailsForm(SubmitHelperMixin, forms.ModelForm):
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices,
        help_text=_("Your doses are due at your preferred time in this time zone."),
    )

    class Meta:
        model = Patient
        fields = ["time_zone", "dose_time"]
        widgets = {"dose_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}
        help_texts = {"dose_time": _("The time of day you would like to take your doses.")}


class ClinicSettingsForm(SubmitHelperMixin, forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)

    class Meta:
        model = Clinic
        fields = ["name", "time_zone"]
