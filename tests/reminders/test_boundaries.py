"""Reminders is the top domain app: it imports the domain apps below it, and no front end,
demo data or project module."""

from tests.layers import below, imports_of_other_apps


def test_reminders_imports_only_the_apps_below_it():
    assert set(imports_of_other_apps("reminders")) <= set(below("reminders"))
