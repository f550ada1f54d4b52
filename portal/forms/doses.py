"""The patient's dose forms: log a dose, correct it, skip it. They check shape only; the
services decide what may be recorded (a time given in the future, before the start...)."""

from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import LOCAL_INPUT_FORMAT, InPatientZoneForm, LocalDateTimeInput
from schedules.models import InjectionEvent

BUTTOCK_SITES = {InjectionEvent.Site.LEFT_BUTTOCK, InjectionEvent.Site.RIGHT_BUTTOCK}


class DoseDetailsForm(InPatientZoneForm):
    """Time given, site, lot and notes: logging a dose, and correcting one."""

    given_at = forms.DateTimeField(
        label=_("Time given"),
        input_formats=[LOCAL_INPUT_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=LocalDateTimeInput(attrs={"class": "form-control"}),
        help_text=_("Now, unless you took it earlier."),
    )
    site = forms.ChoiceField(
        label=_("Injection site"),
        choices=InjectionEvent.Site.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose where you injected.")},
    )
    lot = forms.CharField(
        label=_("Lot number (optional)"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
        help_text=_("Printed on the ampoule or the box."),
    )
    notes = forms.CharField(
        label=_("Notes or side effects (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 3}),
        help_text=_("For example: pain, bruising, feeling dizzy."),
    )

    def __init__(self, *args, injected: bool, now: datetime, start_on, **kwargs):
        super().__init__(*args, **kwargs)
        local_now = now.astimezone(self.zone)
        # Hints for the browser's picker; the service refuses out-of-range times either way.
        self.fields["given_at"].widget.attrs.update(
            max=local_now.strftime(LOCAL_INPUT_FORMAT), min=f"{start_on.isoformat()}T00:00"
        )
        if not injected:
            del self.fields["site"]


class DoseLogForm(DoseDetailsForm):
    # The planned time the form was shown for: if the plan moved meanwhile, the form is stale.
    due_at = forms.CharField(widget=forms.HiddenInput)


class DoseCorrectForm(DoseDetailsForm):
    pass


SKIP_REASONS = [
    ("unwell", _("I feel unwell")),
    ("supplies", _("I have no medicine or needles")),
    ("clinic", _("My clinic told me to skip it")),
    ("away", _("I am away from home")),
    ("other", _("Another reason")),
]


class DoseSkipForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why are you skipping this dose?"),
        choices=SKIP_REASONS,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a reason.")},
    )
    details = forms.CharField(
        label=_("More details (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    due_at = forms.CharField(widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("reason") == "other" and not data.get("details", "").strip():
            self.add_error("details", _("Tell us the reason in a few words."))
        return data

    def reason_text(self) -> str:
        label = str(dict(SKIP_REASONS)[self.cleaned_data["reason"]])
        details = self.cleaned_data.get("details", "").strip()
        return f"{label}: {details}" if details else label
