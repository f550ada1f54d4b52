"""The workspace holds every page of /clinic/, and the domain apps hold none of them.

A page of the nurses or clinic admins is found from its URL alone: its view is in
`workspace.views`, named after its URL name (`flag_queue:resolve` is
`workspace.views.flags.resolve`). The domain apps below import nothing of the workspace: a
patient's data changing reaches its page cache as a signal (audit.signals).
"""

import ast
from pathlib import Path

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

DOMAIN_APPS = ("audit", "accounts", "clinics", "flags", "schedules", "reminders")
WORKSPACE_NAMESPACES = {"clinics", "regimens", "flag_queue", "care"}


def clinic_pages() -> list[tuple[str, str, URLPattern]]:
    """(route, namespace, pattern) of every page under /clinic/."""
    found = []

    def walk(patterns, route: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(
                    pattern.url_patterns,
                    route + str(pattern.pattern),
                    pattern.namespace or namespace,
                )
            elif route.startswith("clinic/"):
                found.append((route + str(pattern.pattern), namespace, pattern))

    walk(get_resolver().url_patterns, "", "")
    return found


def test_every_clinic_page_is_a_workspace_view_named_after_its_url():
    pages = clinic_pages()
    assert len(pages) == 33
    for route, namespace, pattern in pages:
        view = pattern.callback
        assert view.__module__.startswith("workspace.views."), route
        assert view.__name__ == pattern.name, route
        assert namespace in WORKSPACE_NAMESPACES, route


def test_the_workspace_namespaces_are_mounted_once_under_clinic():
    mounted = [
        resolver
        for resolver in get_resolver().url_patterns
        if isinstance(resolver, URLResolver) and str(resolver.pattern) == "clinic/"
    ]
    assert len(mounted) == 1
    assert mounted[0].urlconf_module.__name__ == "workspace.urls"
    inside = {resolver.namespace for resolver in mounted[0].url_patterns}
    assert inside == WORKSPACE_NAMESPACES


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_domain_app_imports_the_workspace():
    """A patient's data changed: the domain says so with audit.signals.patient_data_changed,
    which the workspace's page cache receives; it never calls up into the workspace."""
    root = Path(settings.BASE_DIR)
    upward = [
        path.relative_to(root).as_posix()
        for app in DOMAIN_APPS
        for path in sorted((root / app).rglob("*.py"))
        if any(name.split(".")[0] == "workspace" for name in imports_of(path))
    ]
    assert upward == []
