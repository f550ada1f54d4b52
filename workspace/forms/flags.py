"""The flag queue's forms: filters (GET), resolving with a note, assigning to a colleague."""

from crispy_forms.bootstrap import StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.forms import SubmitHelperMixin
from accounts.models import User
from flags.models import Flag
from flags.services import NOT_A_COLLEAGUE
from workspace.flag_queue import Who

NOTE_MAX_LENGTH = 2000
# Primary keys are 64-bit (BigAutoField); 0 is never one.
MAX_ID = 2**63 - 1
NO_PATIENT = 0


class QueueFilterForm(forms.Form):
    who = forms.ChoiceField(
        label=_("Whose flags"),
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
    # An id a row can have; any other finds no patient (`filters`).
    patient = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )

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
                    StrictButton(_("Show flags"), type="submit", css_class="btn btn-primary w-100"),
                    css_class="col-12 col-md-2 align-self-end mb-3",
                ),
            ),
            "patient",
        )

    def filters(self) -> dict:
        """The valid choices. A patient id that is not a number a row can have is a patient
        that does not exist: no flags, as for any id outside the nurse's clinics."""
        self.is_valid()
        data = self.cleaned_data
        return {
            "who": data.get("who") or Who.ALL,
            "cause": data.get("cause") or "",
            "patient": NO_PATIENT if "patient" in self.errors else data.get("patient"),
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
        # The server's message names what is missing, in the app's words.
        self.helper.attrs = {"novalidate": ""}


class FlagAssignForm(SubmitHelperMixin, forms.Form):
    """The choices are the patient's clinic's active nurses, and the id sent is looked up
    among them only: any other (another clinic's nurse, a patient, an id no one has) is
    refused in the same words, naming no one (section 5). The service refuses them too."""

    submit_label = _("Assign")

    assignee = forms.ModelChoiceField(
        label=_("Assign to"),
        queryset=User.objects.none(),
        empty_label=_("Choose a nurse"),
        error_messages={
            "required": _("Choose a nurse to assign it to."),
            "invalid_choice": NOT_A_COLLEAGUE,
        },
    )

    def __init__(self, *args, colleagues: QuerySet[User], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = colleagues
        self.fields["assignee"].label_from_instance = lambda nurse: nurse.display_name
        self.helper.form_id = "assign-form"
        self.helper.attrs = {"novalidate": ""}
