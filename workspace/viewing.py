"""The workspace's views of patient data: found in the viewer's scope and audited, in one step.

Every workspace page that shows a patient's data obtains the patient (or the flag, prescription
or dose it shows) here, and nowhere else: the look-up is scoped to the nurse's clinics
(section 5; anything else answers 404, exactly as a record that does not exist), and the
VIEW row naming the patient is written before the page is worked out, so no page can show a
patient without its row. Pages listing patients (the dashboard, the flag queue, People) pass
the patients they show to `workspace_patients_listed`: one row per patient, in one INSERT.

`tests/test_workspace_views_audited.py` walks every URL pattern a nurse or clinic admin can
open and fails when a page shows a patient's data without a row for that patient, or when a
new page has not been classified.

The scope is the clinics' rule (`clinics.selectors.patients_visible_to`) and the log is the
audit app's, which knows nothing of who may see whom; the pages join the two here.
"""

from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import TypeVar

from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from audit.services import audit_record_views
from clinics.models import Patient
from clinics.selectors import patients_visible_to

M = TypeVar("M", bound=Model)

# The query string is kept with the row (what the nurse searched for, the period asked),
# cut short: a URL is not a place for an essay.
QUERY_KEPT = 500


def workspace_patient_view(
    request: HttpRequest, patient_id: int, *, summary: str | Callable[[Patient], str] = ""
) -> Patient:
    """The patient `patient_id` if the nurse may see them (404 otherwise), with the VIEW row
    written. `summary` says what was viewed (by default, the page's URL name); a page whose
    words depend on the patient (a period in their time zone) passes a function of them."""
    patient = get_object_or_404(patients_visible_to(request.user), pk=patient_id)
    text = summary(patient) if callable(summary) else summary
    workspace_patients_listed(request, [patient.pk], summary=text)
    return patient


def workspace_object_view(
    request: HttpRequest, queryset: QuerySet[M], pk: int, *, patient: str, summary: str = ""
) -> M:
    """The object `pk` of `queryset` whose patient (at the look-up path `patient`, such as
    "prescription__patient") the nurse may see, 404 otherwise, with the VIEW row written for
    that patient. The scope is applied here, whatever `queryset` already holds."""
    scoped = queryset.filter(**{f"{patient}__in": patients_visible_to(request.user)})
    found = get_object_or_404(scoped, pk=pk)
    patient_id = attrgetter(patient.replace("__", ".") + "_id")(found)
    workspace_patients_listed(request, [patient_id], summary=summary)
    return found


def workspace_patients_listed(
    request: HttpRequest,
    patient_ids: Iterable[int],
    *,
    summary: str = "",
    changes: dict | None = None,
) -> None:
    """One VIEW row for each patient a page shows. The caller found them through its own
    scoped selector; this writes the rows, one INSERT for them all (none when the list is
    empty)."""
    ids = list(patient_ids)
    if not ids:
        return
    page = request.resolver_match.view_name if request.resolver_match else request.path
    details = {"page": page}
    if request.GET:
        details["query"] = request.GET.urlencode()[:QUERY_KEPT]
    audit_record_views(
        actor=request.user,
        patient_ids=ids,
        summary=summary or f"Viewed {page}",
        changes=details | (changes or {}),
        request=request,
    )
