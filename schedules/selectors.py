from django.db.models import Max, Q, QuerySet

from clinics.selectors import clinics_of
from schedules import safety
from schedules.models import InjectionEvent, LabResult, Regimen


def regimens_visible_to(user) -> QuerySet[Regimen]:
    """The built-in library and the staff member's own clinics' templates, not retired."""
    return (
        Regimen.objects.filter(Q(clinic__isnull=True) | Q(clinic__in=clinics_of(user)))
        .filter(retired_at__isnull=True)
        .select_related("medication", "clinic")
        .prefetch_related("phases")
        .order_by("clinic_id", "name")
    )


def latest_platelet_result(patient) -> LabResult | None:
    """The newest result that has a platelet count: section 4's rules follow it."""
    return (
        LabResult.objects.filter(patient=patient, platelets_10e9_l__isnull=False)
        .order_by("-taken_on", "-id")
        .first()
    )


def platelet_guidance(patient) -> str:
    """Section 4 for at-home injections: standard, fine needle and pressure, or paused."""
    latest = latest_platelet_result(patient)
    return safety.platelet_status(latest.platelets_10e9_l if latest else None)


ROTATION_SITES = [
    InjectionEvent.Site.LEFT_DELTOID,
    InjectionEvent.Site.RIGHT_DELTOID,
    InjectionEvent.Site.LEFT_THIGH,
    InjectionEvent.Site.RIGHT_THIGH,
]


def site_suggestion(patient) -> str:
    """Section 4: deltoid or vastus lateralis, left or right, the least recently used first
    (a site never used comes before any used one, in the order above). The buttock is never
    suggested; it is allowed only with its warning."""
    last_used = dict(
        InjectionEvent.objects.filter(
            prescription__patient=patient,
            status=InjectionEvent.Status.TAKEN,
            site__in=ROTATION_SITES,
        )
        .values("site")
        .annotate(last=Max("given_at"))
        .values_list("site", "last")
    )
    never = [site for site in ROTATION_SITES if site not in last_used]
    if never:
        return never[0]
    return min(ROTATION_SITES, key=lambda site: last_used[site])
