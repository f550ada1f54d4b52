"""The audit log is the bottom layer: every app writes to it, and it imports none of them (it
names users and patients only by their model's label, and reads the client's address through
django-axes, as the sign-in lockout does)."""

from tests.layers import imports_of_other_apps


def test_audit_imports_no_other_app_of_the_project():
    assert imports_of_other_apps("audit") == {}
