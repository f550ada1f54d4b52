"""Clinics and their people: clinics, staff memberships, patients, who may see whom, invitations.

The scope rules live here (section 5 of the clinical rules): which patients a nurse may see,
which clinic an admin manages (selectors.py). So do a clinic's people: inviting a person by
email, resending and revoking the invitation, deactivating and reactivating accounts, a
patient's time zone and dose time, a clinic's settings (services/).

It sits above accounts and audit, and imports nothing else of the project. What accepting an
invitation makes of the invitee (a patient, or a nurse or admin of the clinic) is done here,
on `accounts.signals.invitation_accepted`, which the accounts app sends from the accept page
inside its transaction; a patient's new time zone or dose time reaches their prescriptions
through `clinics.signals.patient_timing_changed`, which the schedules app receives.
"""
