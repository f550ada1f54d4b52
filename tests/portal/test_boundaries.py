"""The patient's pages sit on top of the domain apps: the portal imports them, none of them
imports the portal, and the portal imports no other front end."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_APPS = ("audit", "accounts", "clinics", "flags", "schedules", "reminders")
OTHER_FRONT_ENDS = ("workspace",)


def imported_modules(path: Path):
    """Every module a file imports, absolute, with the names taken from it."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def imports_of(apps: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(ROOT)} imports {name}"
        for app in apps
        for path in (ROOT / app).rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in forbidden
    )


def test_no_domain_app_imports_the_portal():
    assert imports_of(DOMAIN_APPS, ("portal",)) == []


def test_the_portal_imports_no_other_front_end():
    assert imports_of(("portal",), OTHER_FRONT_ENDS) == []
