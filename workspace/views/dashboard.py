"""The nurse's dashboard of the patients of their clinics, and its CSV export."""

import io
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.decorators import role_required
from accounts.models import User
from clinics import selectors
from config.pagination import page_of
from schedules import scheduler
from workspace import dashboard as board
from workspace import page_cache
from workspace.forms.dashboard import DashboardFilterForm
from workspace.viewing import workspace_patients_listed

PAGE_SIZE = 50
# Columns whose first click sorts the largest first: what needs a look comes to the top.
DESCENDING_FIRST = {"missed_streak", "flags", "labs_overdue"}


@role_required(User.Role.NURSE)
def dashboard(request):
    form = DashboardFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else DashboardFilterForm.default_filters()
    clinic_ids = page_cache.nurse_clinic_ids(request.user)
    page_number = _page_number(request)
    query = _query(filters, page=page_number)
    fresh = request.GET.get("fresh") == "1"
    # A form with errors echoes what was typed: shown to this nurse only, never kept.
    keep = not form.is_bound or form.is_valid()

    def work_out():
        context = {"form": form, **_table(request, filters)}
        shown = [row.patient.pk for row in context["rows"]]
        return render_to_string("workspace/_dashboard_table.html", context), shown

    def whole_page():
        clinics = list(selectors.clinics_of(request.user).order_by("pk"))
        table = page_cache.part_cached(
            "dashboard", clinic_ids, query, work_out, fresh=fresh, keep=keep
        )
        context = {
            "table": table.html,
            "clinics": clinics,
            "csv_query": _query(filters),
            "refresh_url": f"?{query}&fresh=1" if query else "?fresh=1",
            "as_of": table.as_of or timezone.now(),
            "as_of_zone": clinics[0].time_zone if clinics else settings.SITE_TIME_ZONE,
        }
        html = render_to_string("workspace/dashboard.html", context, request=request)
        return html, table.patient_ids

    personal = page_cache.personal_key(request)
    page = page_cache.part_cached(
        "dashboard-page",
        clinic_ids,
        f"{query}|{personal}",
        whole_page,
        fresh=fresh,
        keep=keep and personal is not None,
    )
    # Kept or worked out now, the page shows these patients: each view is audited.
    workspace_patients_listed(request, page.patient_ids, summary="Listed on the patients dashboard")
    return HttpResponse(page.html)


def _table(request, filters: dict) -> dict:
    """The table's context: the page of rows, worked out now."""
    now = timezone.now()
    patients = board.dashboard_patients(request.user, search=filters["q"], cause=filters["cause"])
    if _needs_every_row(filters):
        rows = _all_rows(patients, filters, now)
        page = page_of(request, rows, size=PAGE_SIZE, number=_page_number(request))
    else:
        # By name with no computed filter: only the page's patients need their figures.
        page = page_of(request, patients, size=PAGE_SIZE, number=_page_number(request))
        page.object_list = board.dashboard_rows(page.object_list, now=now)
    return {
        "page": page,
        "rows": page.object_list,
        "filtered": any(filters[k] for k in ("q", "cause", "phase", "overdue")),
        "columns": _columns(filters),
        "page_query": _query(filters),
    }


def _page_number(request) -> str:
    """The page asked for, digits only (anything else is page 1): it is part of the key the
    table is kept under."""
    number = request.GET.get("page", "")
    return number if number.isdigit() and len(number) < 7 else "1"


@role_required(User.Role.NURSE)
def dashboard_csv(request):
    form = DashboardFilterForm(request.GET or None)
    filters = form.filters() if form.is_bound else DashboardFilterForm.default_filters()
    now = timezone.now()
    patients = board.dashboard_patients(request.user, search=filters["q"], cause=filters["cause"])
    rows = _all_rows(patients, filters, now)
    # An export is a disclosure: a row for each patient in it.
    workspace_patients_listed(
        request,
        [row.patient.pk for row in rows],
        summary="Exported in the patients list (CSV)",
        changes={"filters": filters},
    )
    out = io.StringIO()
    board.csv_write(rows, out)
    zone = scheduler.zone_for(settings.SITE_TIME_ZONE)
    stamp = now.astimezone(zone).strftime("%Y%m%d-%H%M")
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="patients-{stamp}.csv"'
    return response


def _needs_every_row(filters: dict) -> bool:
    return bool(filters["phase"] or filters["overdue"]) or filters["sort"] != "name"


def _all_rows(patients, filters: dict, now) -> list:
    rows = board.dashboard_rows(list(patients), now=now)
    rows = board.rows_filtered(rows, phase=filters["phase"], overdue=filters["overdue"])
    return board.rows_sorted(rows, filters["sort"])


def _query(filters: dict, **changes: str) -> str:
    """The filters as a query string (empty ones, the default order and page 1 left out)."""
    merged = {**filters, **changes}
    return urlencode(
        {
            k: v
            for k, v in merged.items()
            if v and not (k == "sort" and v == "name") and not (k == "page" and v == "1")
        }
    )


COLUMNS = [
    ("name", _("Patient")),
    ("clinic", _("Clinic")),
    ("regimen", _("Regimen and phase")),
    ("next_dose", _("Next dose")),
    ("last_given", _("Last given")),
    ("adherence_30", _("30 days")),
    ("adherence_90", _("90 days")),
    ("on_time", _("On time")),
    ("missed_streak", _("Missed streak")),
    ("flags", _("Open flags")),
    ("labs_overdue", _("Labs overdue")),
    ("b12", _("Last B12")),
    ("homocysteine", _("Last homocysteine")),
]


# Short headings for narrow columns; a screen reader hears the whole name.
HIDDEN_PREFIX = {
    "adherence_30": _("Given of due, "),
    "adherence_90": _("Given of due, "),
}


def _columns(filters: dict) -> list[dict]:
    """Each column's heading, its sort link (a second click reverses it) and aria-sort."""
    current = filters["sort"]
    columns = []
    for key, label in COLUMNS:
        first = f"-{key}" if key in DESCENDING_FIRST else key
        if current == key:
            target, state = f"-{key}", "ascending"
        elif current == f"-{key}":
            target, state = key, "descending"
        else:
            target, state = first, ""
        url = "?" + _query(filters, sort=target)
        hidden = HIDDEN_PREFIX.get(key, "")
        columns.append({"label": label, "hidden": hidden, "url": url, "state": state})
    return columns
