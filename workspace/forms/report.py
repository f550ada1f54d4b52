"""The visit report's period: `?from=YYYY-MM-DD&to=YYYY-MM-DD` (a GET form)."""

from datetime import date, timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from schedules import bounds

DEFAULT_DAYS = 90
# A report's days are only shown: any day of this century (`bounds.calendar`).
PERIOD = {
    "from": bounds.calendar(_("The start of the period")),
    "to": bounds.calendar(_("The end of the period")),
}


class ReportPeriodForm(forms.Form):
    """`from` is a Python keyword, so the fields are added by name in __init__."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in (("from", _("From")), ("to", _("To"))):
            bound = PERIOD[name]
            self.fields[name] = forms.DateField(
                label=label,
                widget=forms.DateInput(attrs={"type": "date", **bound.widget_attrs()}),
                validators=[bound.check],
            )
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_class = "no-print"
        self.helper.layout = Layout(
            Row(
                Column("from", css_class="col-6 col-md-4"),
                Column("to", css_class="col-6 col-md-4"),
            )
        )
        self.helper.add_input(Submit("period", _("Show this period")))

    @staticmethod
    def default_period(today: date) -> tuple[date, date]:
        return today - timedelta(days=DEFAULT_DAYS), today

    def clean(self):
        data = super().clean()
        first, last = data.get("from"), data.get("to")
        if first and last:
            if first > last:
                self.add_error("to", _("The end of the period must be on or after its start."))
            elif (last - first).days > bounds.SPAN_MAX_DAYS:
                raise ValidationError(_("Choose a period of at most three years."))
        return data
