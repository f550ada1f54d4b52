"""Reading flags, scoped to the person asking (section 5)."""

from django.db.models import QuerySet

from clinics.models import Clinic
from flags.models import Flag, SymptomReport


def flags_open_for_staff(user) -> QuerySet[Flag]:
    """The open flags of the patients of the clinics a nurse belongs to, most urgent first,
    then oldest first. Anyone else (a patient, another clinic's nurse) gets none of them."""
    if not user.is_authenticated or not user.is_nurse:
        return Flag.objects.none()
    return (
        Flag.objects.filter(
            resolved_at__isnull=True,
            patient__clinic__in=Clinic.objects.filter(memberships__user=user),
        )
        .select_related("patient__user", "patient__clinic", "prescription", "assigned_to")
        .order_by("urgency", "opened_at", "pk")
    )


def symptom_reports_of(patient) -> QuerySet[SymptomReport]:
    """A patient's own reports, newest first (another patient's are simply not found)."""
    return SymptomReport.objects.filter(patient=patient).order_by("-reported_at", "-pk")
