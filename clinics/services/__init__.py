"""Clinic services: they write, keyword-only and atomic (STYLE.md, "Where logic lives").

clinics: a clinic's settings; patients: a patient's time zone and dose time; invitations:
inviting a person by email, resending, revoking, and what accepting makes of them here;
people: deactivating and reactivating a clinic's accounts."""

from clinics.services.clinics import SETTINGS_FIELDS, clinic_update_settings
from clinics.services.invitations import (
    invitation_create,
    invitation_fulfil,
    invitation_resend,
    invitation_revoke,
)
from clinics.services.patients import patient_update_details
from clinics.services.people import user_deactivate, user_reactivate

__all__ = [
    "SETTINGS_FIELDS",
    "clinic_update_settings",
    "invitation_create",
    "invitation_fulfil",
    "invitation_resend",
    "invitation_revoke",
    "patient_update_details",
    "user_deactivate",
    "user_reactivate",
]
