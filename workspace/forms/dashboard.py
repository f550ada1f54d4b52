"""The dashboard's GET form: search, filters and order. Shape only; the selector filters."""

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.utils.translation import gettext_lazy as _

from flags.models import Flag
from workspace.dashboard import PHASE_KIND_LABELS, SORT_KEYS, Overdue

SORT_LABELS = {
    "name": _("Name"),
    "attention": _("Needs attention first"),
    "clinic": _("Clinic"),
    "regimen": _("Regimen"),
    "phase": _("Phase"),
    "next_dose": _("Next dose"),
    "last_given": _("Last dose given"),
    "adherence_30": _("Given of due, 30 days"),
    "adherence_90": _("Given of due, 90 days"),
    "on_time": _("On time, 90 days"),
    "missed_streak": _("Missed streak"),
    "flags": _("Open flags"),
    "labs_overdue": _("Labs overdue"),
    "b12": _("Last B12"),
    "homocysteine": _("Last homocysteine"),
}


def sort_choices() -> list[tuple[str, str]]:
    choices = []
    for key in SORT_KEYS:
        label = SORT_LABELS[key]
        choices.append((key, label))
        if key != "attention":
            choices.append((f"-{key}", _("%(column)s, descending") % {"column": label}))
    return choices


class DashboardFilterForm(forms.Form):
    q = forms.CharField(label=_("Search by name"), required=False, max_length=100)
    cause = forms.ChoiceField(
        label=_("Open flag"),
        required=False,
        choices=[("", _("Any")), *Flag.Cause.choices],
    )
    phase = forms.ChoiceField(
        label=_("Phase"),
        required=False,
        choices=[("", _("Any phase")), *((k.value, v) for k, v in PHASE_KIND_LABELS.items())],
    )
    overdue = forms.ChoiceField(
        label=_("Overdue"),
        required=False,
        choices=[
            ("", _("Anyone")),
            (Overdue.DOSE.value, _("Dose overdue")),
            (Overdue.LAB.value, _("Lab check overdue")),
            (Overdue.EITHER.value, _("Dose or lab overdue")),
        ],
    )
    sort = forms.ChoiceField(
        label=_("Order"),
        required=False,
        choices=sort_choices,
        help_text=_(
            "Needs attention first: the most urgent open flag, then the longest missed streak, "
            "then overdue labs, then the lowest share of doses given over 30 days."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_id = "dashboard-filters"
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Row(
                Column("q", css_class="col-12 col-md-6 col-xl-3"),
                Column("cause", css_class="col-12 col-md-6 col-xl-3"),
                Column("phase", css_class="col-6 col-xl-2"),
                Column("overdue", css_class="col-6 col-xl-2"),
                Column("sort", css_class="col-12 col-xl-2"),
            ),
            StrictButton(_("Show patients"), type="submit", css_class="btn btn-primary"),
        )

    @staticmethod
    def default_filters() -> dict[str, str]:
        return {"q": "", "cause": "", "phase": "", "overdue": "", "sort": "name"}

    def filters(self) -> dict[str, str]:
        """The valid choices; a field in error (shown on the form) falls back to no filter,
        and the order to by name."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "q": (data.get("q") or "").strip(),
            "cause": data.get("cause") or "",
            "phase": data.get("phase") or "",
            "overdue": data.get("overdue") or "",
            "sort": data.get("sort") or "name",
        }
