from django.db.models import Q, QuerySet

from clinics.selectors import clinics_of
from schedules.models import Regimen


def regimens_visible_to(user) -> QuerySet[Regimen]:
    """The built-in library and the staff member's own clinics' templates, not retired."""
    return (
        Regimen.objects.filter(Q(clinic__isnull=True) | Q(clinic__in=clinics_of(user)))
        .filter(retired_at__isnull=True)
        .select_related("medication", "clinic")
        .prefetch_related("phases")
        .order_by("clinic_id", "name")
    )
