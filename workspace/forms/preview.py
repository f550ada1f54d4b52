"""Where and when to preview a regimen: the regimen page's form and the editor's sample."""

from datetime import timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from clinics.validators import time_zone_choices
from schedules import bounds


class PreviewForm(forms.Form):
    """Where and when to preview a regimen: the same inputs as `schedule_preview`."""

    start_on = forms.DateField(
        label=_("First dose on"),
        widget=forms.DateInput(attrs={"type": "date", **bounds.preview_start().widget_attrs()}),
    )
    dose_time = forms.TimeField(
        label=_("Local time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)
    until = forms.DateField(
        label=_("Show until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Default: 400 days after the first dose."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.layout = Layout(
            Row(
                Column("start_on", css_class="col-6 col-md-3"),
                Column("dose_time", css_class="col-6 col-md-2"),
                Column("time_zone", css_class="col-12 col-md-4"),
                Column("until", css_class="col-12 col-md-3"),
            ),
        )
        self.helper.add_input(Submit("preview", _("Show schedule")))

    def clean_start_on(self):
        return bounds.preview_start().check(self.cleaned_data["start_on"])

    def clean(self):
        data = super().clean()
        start_on, until = data.get("start_on"), data.get("until")
        if start_on and until is None:
            data["until"] = until = start_on + timedelta(days=400)
        if start_on and until:
            if until < start_on:
                self.add_error("until", _("The end must be on or after the first dose."))
            elif until not in bounds.preview_until(start_on):
                raise ValidationError(_("Preview at most three years at a time."))
        return data
