"""People and how they sign in: the user model, roles, two-factor authentication, sessions,
the client's address, throttles, and the sign-in and invitation-accept pages.

A boundary of its own because every other app depends on who is asking, never the reverse: it
imports no other app of the project. The invitation model is here, with the page its link
opens: accepting creates the account and marks the invitation used, then sends
`accounts.signals.invitation_accepted` inside the same transaction; the clinics app receives
it, makes the person a patient or a member of the clinic and writes the audit row. Inviting,
resending, revoking and deactivating people are the clinics app's services.
"""
