"""What the clinics app does when the accounts app below it announces something; connected
in `ClinicsConfig.ready`."""

from clinics.services import invitation_fulfil


def invitation_accepted(sender, *, invitation, user, request=None, **kwargs) -> None:
    """An invitee's account exists (`accounts.signals.invitation_accepted`): take them into the
    invitation's clinic, in the acceptance's transaction."""
    invitation_fulfil(invitation=invitation, user=user, request=request)
