"""Account services: they write, keyword-only and atomic (STYLE.md, "Where logic lives").

two_factor: authenticator apps and recovery codes; invitations: the invitee accepting an
emailed link (inviting is the clinics app's); sessions: ending a person's sessions, clearing
expired ones."""

from accounts.services.invitations import (
    InvitationUnusable,
    invitation_accept,
    invitation_for_token,
    invitation_lifetime,
    invitation_token_hash,
)
from accounts.services.sessions import sessions_clear_expired, sessions_end_for
from accounts.services.two_factor import (
    AUTHENTICATOR_NAME,
    RECOVERY_CODE_COUNT,
    RECOVERY_DEVICE_NAME,
    recovery_codes_regenerate,
    recovery_codes_remaining,
    totp_device_pending,
    totp_secret,
    two_factor_disable,
    two_factor_enable,
)

__all__ = [
    "AUTHENTICATOR_NAME",
    "RECOVERY_CODE_COUNT",
    "RECOVERY_DEVICE_NAME",
    "InvitationUnusable",
    "invitation_accept",
    "invitation_for_token",
    "invitation_lifetime",
    "invitation_token_hash",
    "recovery_codes_regenerate",
    "recovery_codes_remaining",
    "sessions_clear_expired",
    "sessions_end_for",
    "totp_device_pending",
    "totp_secret",
    "two_factor_disable",
    "two_factor_enable",
]
