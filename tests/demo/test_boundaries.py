"""The demo data is a project-level concern: it may use every domain app, and no app imports
it (only `seed_demo`, through Django's management commands, runs it)."""

from tests.layers import DOMAIN_APPS, apps_importing, imports_of_other_apps


def test_no_app_imports_the_demo():
    assert apps_importing("demo") == []


def test_the_demo_builds_its_world_from_the_domain_apps_only():
    assert set(imports_of_other_apps("demo")) <= set(DOMAIN_APPS)
