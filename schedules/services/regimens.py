"""Regimen templates: the built-in library is read-only; clinics work on their own copies."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from clinics.models import Clinic
from schedules.models import Phase, Regimen


@transaction.atomic
def regimen_copy(*, regimen: Regimen, clinic: Clinic, name: str = "") -> Regimen:
    """An editable copy of a library regimen (or of one of the clinic's own) for a clinic.

    Prescriptions keep their own frozen copy, so editing this template later changes none.
    """
    if regimen.clinic_id not in (None, clinic.pk):
        raise ValidationError(_("This regimen belongs to another clinic."))
    copy = Regimen.objects.create(
        slug=_free_slug(clinic, regimen.slug),
        name=name or _("%(name)s (copy)") % {"name": regimen.name},
        clinic=clinic,
        copied_from=regimen,
        medication=regimen.medication,
        description=regimen.description,
        sources=regimen.sources,
    )
    Phase.objects.bulk_create(
        Phase(regimen=copy, **{field: getattr(phase, field) for field in _PHASE_FIELDS})
        for phase in regimen.phases.all()
    )
    return copy


def regimen_ensure_editable(regimen: Regimen) -> None:
    """The built-in library is read-only (clinical-rules.md section 1)."""
    if regimen.is_library:
        raise ValidationError(
            _("Built-in library regimens cannot be changed; make a copy for your clinic.")
        )


def _free_slug(clinic: Clinic, base: str) -> str:
    taken = set(Regimen.objects.filter(clinic=clinic).values_list("slug", flat=True))
    slug, n = slugify(base)[:45], 1
    candidate = slug
    while candidate in taken:
        n += 1
        candidate = f"{slug}-{n}"
    return candidate


_PHASE_FIELDS = [
    field.name for field in Phase._meta.concrete_fields if field.name not in {"id", "regimen"}
]
