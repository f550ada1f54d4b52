"""What an app of the project imports of the others, read from its source (an ast walk of
every module, migrations excluded), for the tests of each app's boundaries."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The domain apps, from the bottom up: each may import only those before it (SHAPE.md).
DOMAIN_APPS = ("audit", "accounts", "clinics", "flags", "schedules", "reminders")
FRONT_ENDS = ("workspace", "portal")
PROJECT_APPS = (*DOMAIN_APPS, *FRONT_ENDS, "demo", "config")


def imported_modules(path: Path):
    """Every module a file imports, absolute, wherever in the file the import stands."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def imports_of_other_apps(app: str) -> dict[str, set[str]]:
    """{other app: the files of `app` importing it} for every other app of the project."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for name in imported_modules(path):
            other = name.split(".")[0]
            if other in PROJECT_APPS and other != app:
                found.setdefault(other, set()).add(path.relative_to(ROOT).as_posix())
    return found


def apps_importing(app: str) -> list[str]:
    """The other apps of the project that import `app`."""
    return sorted(other for other in PROJECT_APPS if app in imports_of_other_apps(other))


def below(app: str) -> tuple[str, ...]:
    """The domain apps `app` may import: those below it."""
    return DOMAIN_APPS[: DOMAIN_APPS.index(app)]
