"""The flag queue's forms: filters (GET), resolving with a note, assigning to a colleague."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import SubmitHelperMixin
from flags.models import Flag
from flags.queue import Who

NOTE_MAX_LENGTH = 2000


class QueueFilterForm(forms.Form):
    who = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            (Who.ALL, _("All open flags")),
            (Who.MINE, _("Assigned to me")),
            (Who.UNASSIGNED, _("Unassigned")),
        ],
    )
    cause = forms.ChoiceField(
        label=_("Cause"), required=False, choices=[("", _("Any")), *Flag.Cause.choices]
    )
    patient = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.disable_csrf = True
        self.helper.form_id = "queue-filters"
        self.helper.layout = Layout(
            Row(
                Column("who", css_class="col-12 col-md-5"),
                Column("cause", css_class="col-12 col-md-5"),
                Column(
                    Submit("", _("Show"), css_class="w-100"),
                    css_class="col-12 col-md-2 align-self-end mb-3",
                ),
            ),
            "patient",
        )

    def filters(self) -> dict:
        self.is_valid()
        data = self.cleaned_data
        return {
            "who": data.get("who") or Who.ALL,
            "cause": data.get("cause") or "",
            "patient": data.get("patient"),
        }


class FlagResolveForm(SubmitHelperMixin, forms.Form):
    submit_label = _("Resolve flag")

    note = forms.CharField(
        label=_("What was done"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required. For example: called the patient, booked a clinic visit."),
        error_messages={"required": _("Write a note saying what was done.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper.form_id = "resolve-form"


class FlagAssignForm(SubmitHelperMixin, forms.Form):
    """The choices are the patient's clinic's nurses; the service refuses anyone else too."""

    submit_label = _("Assign")

    assignee = forms.IntegerField(label=_("Assign to"), widget=forms.Select)

    def __init__(self, *args, colleagues, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].widget.choices = [("", _("Choose a nurse"))] + [
            (nurse.pk, nurse.display_name) for nurse in colleagues
        ]
        self.fields["assignee"].error_messages["required"] = _("Choose a nurse to assign it to.")
        self.helper.form_id = "assign-form"
