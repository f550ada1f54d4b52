"""Accounts sits just above the audit log and imports no other app of the project, not even
the audit log: what accepting an invitation makes of the invitee in a clinic is the clinics
app's, on `accounts.signals.invitation_accepted`."""

from tests.layers import imports_of_other_apps


def test_accounts_imports_no_other_app_of_the_project():
    assert imports_of_other_apps("accounts") == {}
