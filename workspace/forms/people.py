"""The People page's form: inviting a nurse, a patient or a clinic admin."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import SubmitHelperMixin
from accounts.models import User
from clinics.validators import time_zone_choices


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
