from django.db.models import QuerySet

from clinics.models import Clinic, Patient


def clinics_of(user) -> QuerySet[Clinic]:
    """The clinics a nurse or clinic admin belongs to; a patient's own clinic."""
    if user.is_patient:
        return Clinic.objects.filter(patients__user=user)
    return Clinic.objects.filter(memberships__user=user)


def patients_visible_to(user) -> QuerySet[Patient]:
    """Section 5: a nurse sees the patients of the clinics they belong to, and no others."""
    if not user.is_nurse:
        return Patient.objects.none()
    return Patient.objects.filter(clinic__memberships__user=user).select_related("user", "clinic")


def clinic_managed_by(user) -> Clinic | None:
    if not user.is_clinic_admin:
        return None
    return clinics_of(user).order_by("pk").first()


def patient_of(user) -> QuerySet[Patient]:
    """The signed-in patient's own record (a queryset, for get_object_or_404)."""
    return Patient.objects.filter(user=user).select_related("clinic", "user")
