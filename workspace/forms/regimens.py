"""The clinic admin's regimen template forms: copy, and the one-page editor of a template's
details and all its phases (an ordered formset), with its sample preview inputs.

Plain forms, not ModelForms: the service needs the template as it
was to audit the change. The clinical rules are the service's (`regimen_phase_problems`);
the editor only places what it reports beside the phase it concerns.
"""

from dataclasses import dataclass
from decimal import Decimal

from crispy_forms.bootstrap import InlineCheckboxes
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Fieldset, Layout, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from schedules.models import EndKind, FrequencyKind, Medication, Phase, Regimen, Route
from schedules.services import regimen_phase_problems
from workspace.forms.preview import PreviewForm

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
# Conservative choice: doses are in micrograms only. The medications' strengths are in
# mcg/mL and the volume to draw up is worked out from them, so another unit would give a
# wrong volume.
UNITS = [("mcg", "mcg")]
PHASE_FIELDS = [
    "name",
    "amount",
    "amount_min",
    "amount_max",
    "unit",
    "route",
    "frequency_kind",
    "frequency_every",
    "frequency_every_min",
    "frequency_every_max",
    "weekdays",
    "end_kind",
    "end_value",
    "end_value_min",
    "end_value_max",
]
ONE_DECIMAL = {"max_digits": 7, "decimal_places": 1, "min_value": Decimal("0.1")}
SMALL_COUNT = {"min_value": 1, "max_value": 32767}


class RegimenCopyForm(forms.Form):
    name = forms.CharField(
        label=_("Name of the new template"),
        max_length=120,
        help_text=_("How nurses will see it when they prescribe."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("copy", _("Make the copy")))


class RegimenDetailsForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    medication = forms.ModelChoiceField(
        label=_("Medication"), queryset=Medication.objects.all(), empty_label=None
    )
    description = forms.CharField(
        label=_("Description (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("When to choose this template, for the nurses who prescribe it."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(
                Column("name", css_class="col-12 col-md-8"),
                Column("medication", css_class="col-12 col-md-4"),
            ),
            "description",
        )


class PhaseForm(forms.Form):
    name = forms.CharField(label=_("Phase name"), max_length=60)
    amount = forms.DecimalField(label=_("Dose amount"), **ONE_DECIMAL)
    amount_min = forms.DecimalField(label=_("Lowest amount"), required=False, **ONE_DECIMAL)
    amount_max = forms.DecimalField(label=_("Highest amount"), required=False, **ONE_DECIMAL)
    unit = forms.ChoiceField(
        label=_("Unit"),
        choices=UNITS,
        initial="mcg",
        help_text=_("Micrograms: the volume to draw up is worked out from them."),
    )
    route = forms.ChoiceField(label=_("Route"), choices=Route.choices)
    frequency_kind = forms.ChoiceField(label=_("How often"), choices=FrequencyKind.choices)
    frequency_every = forms.IntegerField(
        label=_("Interval (N)"),
        help_text=_("Days, weeks or months between doses; for N times a week, doses a week."),
        **SMALL_COUNT,
    )
    frequency_every_min = forms.IntegerField(label=_("Lowest N"), required=False, **SMALL_COUNT)
    frequency_every_max = forms.IntegerField(label=_("Highest N"), required=False, **SMALL_COUNT)
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays (N times a week only)"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "None ticked: the weekday of the phase's first dose, then +2 and +4 days "
            "(Monday, Wednesday, Friday for a Monday start)."
        ),
    )
    end_kind = forms.ChoiceField(label=_("Ends"), choices=EndKind.choices)
    end_value = forms.IntegerField(
        label=_("Number of doses or days"),
        required=False,
        help_text=_("Empty for open and lifelong phases."),
        **SMALL_COUNT,
    )
    end_value_min = forms.IntegerField(label=_("Lowest number"), required=False, **SMALL_COUNT)
    end_value_max = forms.IntegerField(label=_("Highest number"), required=False, **SMALL_COUNT)

    def phase(self) -> Phase:
        """The phase as entered, unsaved (its position comes from its place in the order)."""
        data = {name: self.cleaned_data.get(name) for name in PHASE_FIELDS}
        data["unit"] = data["unit"] or ""
        data["weekdays"] = sorted(data["weekdays"] or [])
        return Phase(position=0, **data)


class BasePhaseFormSet(forms.BaseFormSet):
    default_error_messages = {
        "too_many_forms": _("A regimen has at most %(num)d phases."),
    }

    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["ORDER"].label = _("Position")
        form.fields["ORDER"].widget.attrs.update({"min": 1, "data-phase-order": ""})
        form.fields["DELETE"].label = _("Remove this phase")
        form.fields["DELETE"].widget.attrs["data-phase-delete"] = ""


# Conservative choice: the library's longest protocol has four phases; ten is plenty, and a
# form claiming thousands (its TOTAL_FORMS is the sender's word) is refused, not rendered.
MAX_PHASES = 10
PhaseFormSet = forms.formset_factory(
    PhaseForm,
    formset=BasePhaseFormSet,
    extra=0,
    can_order=True,
    can_delete=True,
    max_num=MAX_PHASES,
    absolute_max=MAX_PHASES,
    validate_max=True,
)


def phase_helper() -> FormHelper:
    """One phase's fields, laid out to fit a phone one-handed and a desktop in rows."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    ranges = _("Range a clinician may choose within when prescribing (optional)")
    helper.layout = Layout(
        Row(
            Column("name", css_class="col-12 col-md-6"),
            Column(Field("ORDER", css_class="phase-order"), css_class="col-6 col-md-3"),
            Column("DELETE", css_class="col-6 col-md-3 d-flex align-items-end"),
        ),
        Row(
            Column("amount", css_class="col-6 col-md-3"),
            Column("unit", css_class="col-6 col-md-3"),
            Column("route", css_class="col-12 col-md-6"),
        ),
        Row(
            Column("frequency_kind", css_class="col-12 col-md-6"),
            Column("frequency_every", css_class="col-12 col-md-6"),
        ),
        InlineCheckboxes("weekdays"),
        Row(
            Column("end_kind", css_class="col-12 col-md-6"),
            Column("end_value", css_class="col-12 col-md-6"),
        ),
        Fieldset(
            ranges,
            Row(
                Column("amount_min", css_class="col-6 col-md-2"),
                Column("amount_max", css_class="col-6 col-md-2"),
                Column("frequency_every_min", css_class="col-6 col-md-2"),
                Column("frequency_every_max", css_class="col-6 col-md-2"),
                Column("end_value_min", css_class="col-6 col-md-2"),
                Column("end_value_max", css_class="col-6 col-md-2"),
            ),
            css_class="small",
        ),
    )
    return helper


class EditorPreviewForm(PreviewForm):
    """The sample start, time and zone of the editor's live preview: the detail page's
    preview inputs, inside the editor's own form."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.inputs = []


@dataclass
class Draft:
    """The editor's phases as entered, in order: each form with its unsaved phase."""

    forms: list[PhaseForm]
    phases: list[Phase]


class RegimenEditor:
    """The template's details, its phases (add, remove, reorder) and the sample preview, as
    one form. Valid only when every part is, and the service's rules hold for the phases."""

    def __init__(self, regimen: Regimen, data=None, *, preview_initial: dict | None = None):
        self.regimen = regimen
        initial = {
            "name": regimen.name,
            "medication": regimen.medication_id,
            "description": regimen.description,
        }
        self.details = RegimenDetailsForm(data, initial=initial)
        self.formset = PhaseFormSet(
            data,
            prefix="phases",
            initial=[
                {**{name: getattr(phase, name) for name in PHASE_FIELDS}, "ORDER": n}
                for n, phase in enumerate(regimen.phases.order_by("position"), start=1)
            ],
        )
        self.preview = EditorPreviewForm(data, prefix="preview", initial=preview_initial)
        self.phase_helper = phase_helper()
        self.errors: list[str] = []
        self._draft: Draft | None = None
        self._valid: bool | None = None

    def is_valid(self) -> bool:
        if self._valid is None:
            self._valid = self._check()
        return self._valid

    def _check(self) -> bool:
        details_ok = self.details.is_valid()
        phases_ok = self.formset.is_valid()
        kept = self.kept_forms()
        if not kept:
            self.errors.append(str(_("A regimen needs at least one phase.")))
        # The rules run on every kept phase, even one with a field still wrong, so that
        # one round shows every error; a rule needing a field that is not valid yet waits.
        draft = Draft(kept, [form.phase() for form in kept])
        medication = self.details.cleaned_data.get("medication")
        for problem in regimen_phase_problems(medication=medication, phases=draft.phases):
            field = problem.field if problem.field in PhaseForm.base_fields else None
            draft.forms[problem.index].add_error(field, problem.message)
        valid = details_ok and phases_ok and bool(kept) and all(form.is_valid() for form in kept)
        self._draft = draft if valid else None
        return valid

    def kept_forms(self) -> list[PhaseForm]:
        """The phases to keep, in their chosen order: not removed, not an untouched new one.
        Works on an invalid formset too, so every phase's errors can be shown at once."""
        initial = self.formset.initial_form_count()
        return [
            form
            for index, form in self._ordered()
            if not self._cleaned(form).get("DELETE") and (index < initial or form.has_changed())
        ]

    def display_forms(self) -> list[PhaseForm]:
        """Every phase form, in the order the admin chose (removed ones where they were)."""
        return [form for _, form in self._ordered()]

    def _ordered(self) -> list[tuple[int, PhaseForm]]:
        """The forms by their position, then by their place on the page; no position: last."""

        def key(item):
            index, form = item
            order = self._cleaned(form).get("ORDER")
            return (order is None, order or 0, index)

        return sorted(enumerate(self.formset.forms), key=key)

    @staticmethod
    def _cleaned(form: PhaseForm) -> dict:
        if not form.is_bound:
            return form.initial
        form.errors  # noqa: B018 (cleans the form, once)
        return form.cleaned_data

    @property
    def has_phase_errors(self) -> bool:
        return self.formset.is_bound and any(form.errors for form in self.kept_forms())

    @property
    def phases(self) -> list[Phase]:
        assert self._draft is not None, "call is_valid() first"
        return self._draft.phases

    @property
    def cleaned_details(self) -> dict:
        return self.details.cleaned_data

    def error_list(self) -> list[dict]:
        """Every error, by phase (numbered in the chosen order), for the JSON preview."""
        phases = []
        for number, form in enumerate(self.kept_forms(), start=1):
            if form.errors:
                phases.append(
                    {
                        "phase": number,
                        "name": form.data.get(f"{form.prefix}-name", ""),
                        "errors": {
                            (str(form.fields[field].label) if field in form.fields else ""): list(
                                messages
                            )
                            for field, messages in form.errors.items()
                        },
                    }
                )
        return phases
