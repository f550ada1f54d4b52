"""The patient's symptom report: what they noticed, ticked from the list, and a note."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import SubmitHelperMixin
from flags.models import SymptomReport

NOTES_MAX_LENGTH = 2000


class SymptomReportForm(SubmitHelperMixin, forms.Form):
    """Shape only: whether something was reported at all is the service's rule."""

    submit_label = _("Send my report")

    symptoms = forms.MultipleChoiceField(
        label=_("What have you noticed?"),
        choices=SymptomReport.Symptom.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick all that apply."),
        error_messages={
            "invalid_choice": _("%(value)s is not a symptom this form knows; choose from the list.")
        },
    )
    notes = forms.CharField(
        label=_("Anything else your nurse should know"),
        required=False,
        max_length=NOTES_MAX_LENGTH,
        help_text=_("For example when it started, and how it affects your day."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
