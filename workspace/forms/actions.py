"""The nurse's action forms. They check shape and the bounds of the dates typed (`bounds`,
checked again by the services); the services decide the rest (ranges, safety)."""

from datetime import date
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Fieldset, Layout, Row, Submit
from django import forms
from django.core.validators import MinValueValidator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.forms import LOCAL_INPUT_FORMAT, InPatientZoneForm, LocalDateTimeInput
from clinics.validators import time_zone_choices
from schedules import bounds, safety
from schedules.models import InjectionEvent, Prescription, Regimen
from schedules.services import PhaseChoice

DATE_WIDGET = {"type": "date"}
BIG_SUBMIT = "btn-lg w-100"
REASON_MAX = 200


def _helper(submit: str, *, name: str = "submit", css: str = BIG_SUBMIT) -> FormHelper:
    helper = FormHelper()
    helper.attrs = {"novalidate": ""}
    helper.form_error_title = _("Nothing was saved")
    helper.add_input(Submit(name, submit, css_class=css))
    return helper


def _reason_field(label, help_text="") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=REASON_MAX,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason: it is recorded with your name.")},
    )


class PrescribeForm(forms.Form):
    """When the first dose is, the choices within the protocol's ranges, the clinical facts
    and the section 4 acknowledgement. Choice fields exist only where the spec gives a range."""

    regimen = forms.IntegerField(widget=forms.HiddenInput)
    start_on = forms.DateField(
        label=_("First dose on"),
        widget=forms.DateInput(attrs=DATE_WIDGET),
        help_text=_("The prescription's start date: its first dose."),
    )
    dose_time = forms.TimeField(
        label=_("Local time of each dose"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)
    neurological_involvement = forms.BooleanField(
        label=_("Neurological involvement"), required=False
    )
    renal_impairment = forms.BooleanField(label=_("Renal impairment"), required=False)
    folic_acid_before_b12 = forms.BooleanField(
        label=_("Folic acid was started before B12 treatment"), required=False
    )
    renal_acknowledged = forms.BooleanField(
        label=_(
            "I acknowledge the renal impairment and prescribe cyanocobalamin anyway "
            "(recorded with my name)"
        ),
        required=False,
    )

    def __init__(self, *args, regimen: Regimen, start_bound: bounds.Bound, **kwargs):
        super().__init__(*args, **kwargs)
        self.start_bound = start_bound
        self.fields["start_on"].widget.attrs.update(start_bound.widget_attrs())
        self.fields["start_on"].help_text = _(
            "The prescription's start date: its first dose, within a year of today."
        )
        self.regimen = regimen
        self.phases = list(regimen.phases.order_by("position"))
        self.cyano = regimen.medication.slug == safety.CYANOCOBALAMIN
        if not self.cyano:
            del self.fields["renal_acknowledged"]
        choice_names = []
        for phase in self.phases:
            choice_names += self._add_choice_fields(phase)
        self.helper = _helper(_("Preview the schedule"), name="preview")
        self.fields["regimen"].initial = regimen.pk
        self.helper.layout = Layout(
            "regimen",
            Fieldset(
                _("When"),
                Row(
                    Column("start_on", css_class="col-12 col-md-4"),
                    Column("dose_time", css_class="col-12 col-md-3"),
                    Column("time_zone", css_class="col-12 col-md-5"),
                ),
            ),
            *(
                [Fieldset(_("Choices within the protocol's ranges"), *choice_names)]
                if choice_names
                else []
            ),
            Fieldset(
                _("Clinical facts"),
                "neurological_involvement",
                "renal_impairment",
                "folic_acid_before_b12",
            ),
            *([self._renal_fieldset()] if self.cyano else []),
        )

    def _add_choice_fields(self, phase) -> list[str]:
        names = []
        if phase.frequency_every_min and phase.frequency_every_max:
            name = f"phase_{phase.position}_frequency_every"
            self.fields[name] = forms.TypedChoiceField(
                label=_("%(phase)s: how often") % {"phase": phase.name},
                coerce=int,
                choices=[
                    (n, _frequency_label(phase, n, marker=_("protocol default")))
                    for n in range(phase.frequency_every_min, phase.frequency_every_max + 1)
                ],
                initial=phase.frequency_every,
            )
            names.append(name)
        if phase.end_value_min and phase.end_value_max:
            name = f"phase_{phase.position}_end_value"
            unit = _("doses") if phase.end_kind == "count" else _("days")
            self.fields[name] = forms.TypedChoiceField(
                label=_("%(phase)s: how long") % {"phase": phase.name},
                coerce=int,
                choices=[
                    (n, f"{n} {unit}") for n in range(phase.end_value_min, phase.end_value_max + 1)
                ],
                initial=phase.end_value,
            )
            names.append(name)
        if phase.amount_min and phase.amount_max:
            name = f"phase_{phase.position}_amount"
            self.fields[name] = forms.DecimalField(
                label=_("%(phase)s: dose (%(unit)s)") % {"phase": phase.name, "unit": phase.unit},
                min_value=phase.amount_min,
                max_value=phase.amount_max,
                decimal_places=1,
                initial=phase.amount.normalize(),
                help_text=_("Between %(low)s and %(high)s %(unit)s.")
                % {
                    "low": f"{phase.amount_min.normalize():f}",
                    "high": f"{phase.amount_max.normalize():f}",
                    "unit": phase.unit,
                },
            )
            names.append(name)
        return names

    def _renal_fieldset(self) -> Fieldset:
        warning = format_html(
            '<div class="alert alert-warning" role="note" data-testid="renal-warning">{}</div>',
            _(
                "Cyanocobalamin with renal impairment: consider hydroxocobalamin or "
                "methylcobalamin instead. To prescribe cyanocobalamin to a patient with renal "
                "impairment, tick the acknowledgement."
            ),
        )
        return Fieldset(_("Safety"), HTML(warning), "renal_acknowledged")

    def clean_start_on(self) -> date:
        return self.start_bound.check(self.cleaned_data["start_on"])

    def choices(self) -> dict[int, PhaseChoice]:
        chosen = {}
        for phase in self.phases:
            values = {
                field: self.cleaned_data.get(f"phase_{phase.position}_{field}")
                for field in ("amount", "frequency_every", "end_value")
            }
            if any(value is not None for value in values.values()):
                chosen[phase.position] = PhaseChoice(**values)
        return chosen

    def service_options(self) -> dict:
        data = self.cleaned_data
        return {
            "start_on": data["start_on"],
            "dose_time": data["dose_time"],
            "time_zone": data["time_zone"],
            "choices": self.choices(),
            "renal_impairment": data["renal_impairment"],
            "renal_acknowledged": data.get("renal_acknowledged", False),
            "folic_acid_before_b12": data["folic_acid_before_b12"],
        }


def _frequency_label(phase, every: int, *, marker=None) -> str:
    """The interval in words ("every 2 months"), with `marker` ("protocol default",
    "current") beside the phase's own value."""
    units = {
        "days": (_("every day"), _("every %(n)s days")),
        "weeks": (_("every week"), _("every %(n)s weeks")),
        "months": (_("every month"), _("every %(n)s months")),
        "weekdays": (_("once a week"), _("%(n)s times a week")),
    }
    one, many = units[phase.frequency_kind]
    text = str(one) if every == 1 else str(many) % {"n": every}
    if marker and every == phase.frequency_every:
        text += f" ({marker})"
    return text


class PhaseEndForm(forms.Form):
    ended_on = forms.DateField(
        label=_("No further improvement on"),
        widget=forms.DateInput(attrs=DATE_WIDGET),
        help_text=_(
            "Today or an earlier day since the prescription started, in the patient's time zone."
        ),
    )

    def __init__(self, *args, bound: bounds.Bound, **kwargs):
        super().__init__(*args, **kwargs)
        self.bound = bound
        self.fields["ended_on"].widget.attrs.update(bound.widget_attrs())
        self.helper = _helper(_("Record no further improvement"))

    def clean_ended_on(self) -> date:
        return self.bound.check(self.cleaned_data["ended_on"])


class IntervalChangeForm(forms.Form):
    """A new interval for a phase whose frequency the spec gives as a range (2.8)."""

    interval = forms.ChoiceField(label=_("New interval"), widget=forms.RadioSelect)
    reason = _reason_field(_("Reason for the change"), _("Recorded with your name (2.8)."))

    def __init__(self, *args, prescription: Prescription, **kwargs):
        super().__init__(*args, **kwargs)
        self.ranged = [
            phase
            for phase in prescription.phases.order_by("position")
            if phase.frequency_every_min and phase.frequency_every_max and phase.ended_on is None
        ]
        self.fields["interval"].choices = [
            (
                f"{phase.position}:{n}",
                f"{phase.name}: {_frequency_label(phase, n, marker=_('current'))}",
            )
            for phase in self.ranged
            for n in range(phase.frequency_every_min, phase.frequency_every_max + 1)
        ]
        self.helper = _helper(_("Change the interval"))

    def clean_interval(self) -> tuple[int, int]:
        position, every = self.cleaned_data["interval"].split(":")
        return int(position), int(every)


class ReasonForm(forms.Form):
    """Pause, resume and stop: a reason, always, recorded with who and when."""

    reason = _reason_field(_("Reason"))

    def __init__(self, *args, submit: str, label: str, danger: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label
        css = f"{BIG_SUBMIT} btn-danger" if danger else BIG_SUBMIT
        self.helper = _helper(submit, css=css)


B12_UNITS = [("pg/mL", "pg/mL"), ("pmol/L", "pmol/L")]


def _value_field(label: str, unit: str, digits: int, places: int) -> forms.DecimalField:
    """As many digits and places as the result's column holds (LabResult)."""
    return forms.DecimalField(
        label=f"{label} ({unit})",
        required=False,
        max_digits=digits,
        decimal_places=places,
        validators=[MinValueValidator(Decimal("0"))],
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal", "min": "0"}),
    )


class LabRecordForm(forms.Form):
    taken_on = forms.DateField(
        label=_("Sample taken on"),
        widget=forms.DateInput(attrs=DATE_WIDGET),
        help_text=_(
            "In the patient's time zone: today or earlier, and at most a year before "
            "treatment started."
        ),
    )
    # Converted from pmol/L and rounded to 0.1 pg/mL by the service.
    b12 = _value_field(str(_("Serum B12")), str(_("value")), 7, 2)
    b12_unit = forms.ChoiceField(
        label=_("B12 unit"),
        choices=B12_UNITS,
        initial="pg/mL",
    )
    homocysteine = _value_field(str(_("Total homocysteine")), "umol/L", 5, 1)
    haemoglobin = _value_field(str(_("Haemoglobin")), "g/L", 5, 1)
    platelets = _value_field(str(_("Platelets")), "x10^9/L", 6, 1)
    mma = _value_field(str(_("Methylmalonic acid (MMA)")), "umol/L", 6, 2)

    VALUES = ("b12", "homocysteine", "haemoglobin", "platelets", "mma")

    def __init__(self, *args, taken_on_bound: bounds.Bound, **kwargs):
        super().__init__(*args, **kwargs)
        self.taken_on_bound = taken_on_bound
        self.fields["taken_on"].widget.attrs.update(taken_on_bound.widget_attrs())
        self.fields["b12"].label = _("Serum B12")
        self.fields["b12"].help_text = _("In pg/mL or pmol/L (converted: 1 pg/mL = 0.738 pmol/L).")
        self.helper = _helper(_("Record the results"))
        self.helper.layout = Layout(
            "taken_on",
            Row(Column("b12", css_class="col-7"), Column("b12_unit", css_class="col-5")),
            "homocysteine",
            "haemoglobin",
            "platelets",
            "mma",
        )

    def clean_taken_on(self) -> date:
        return self.taken_on_bound.check(self.cleaned_data["taken_on"])

    def clean(self):
        data = super().clean()
        if not self.errors and all(data.get(name) is None for name in self.VALUES):
            raise forms.ValidationError(_("Enter at least one result."))
        return data


class ClinicDoseForm(InPatientZoneForm):
    """A dose given in clinic by the signed-in nurse: time, site, lot and notes."""

    given_at = forms.DateTimeField(
        label=_("Time given"),
        input_formats=[LOCAL_INPUT_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=LocalDateTimeInput(),
        help_text=_("In the patient's time zone."),
    )
    site = forms.ChoiceField(
        label=_("Injection site"),
        choices=InjectionEvent.Site.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose where the dose was injected.")},
    )
    lot = forms.CharField(label=_("Lot number"), max_length=40, required=False)
    notes = forms.CharField(
        label=_("Notes"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, injected: bool, now, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["given_at"].widget.attrs["max"] = now.astimezone(self.zone).strftime(
            LOCAL_INPUT_FORMAT
        )
        if not injected:
            del self.fields["site"]
        self.helper = _helper(_("Save: dose given in clinic"))


class EnteredInErrorForm(forms.Form):
    reason = _reason_field(
        _("Why was this dose entered in error?"),
        _("For example: logged on the wrong day, or for the wrong patient."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Mark entered in error"), css=f"{BIG_SUBMIT} btn-danger")
