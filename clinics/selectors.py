"""Reading clinics and their people, scoped to who asks (clinical rules section 5): the
patients a nurse may see, the clinic an admin manages, a clinic's people and open invitations."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import Invitation, User
from accounts.selectors import with_two_factor
from clinics.models import Clinic, Patient, StaffMembership


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


def people_of(clinic) -> QuerySet[User]:
    """The clinic's nurses, admins and patients (active or not), for its admin's People page;
    anyone else's answers 404 through this queryset."""
    members = Q(memberships__clinic=clinic) | Q(patient__clinic=clinic)
    ids = User.objects.filter(members).values("pk")
    elsewhere = StaffMembership.objects.filter(user=OuterRef("pk")).exclude(clinic=clinic)
    return (
        with_two_factor(User.objects.filter(pk__in=ids))
        .annotate(in_another_clinic=Exists(elsewhere))
        .order_by("role", "last_name", "first_name", "username")
    )


def invitations_open_in(clinic) -> QuerySet[Invitation]:
    """Invitations neither accepted nor revoked, expired ones included (they can be resent)."""
    return Invitation.objects.filter(
        clinic=clinic, accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("created_by")
