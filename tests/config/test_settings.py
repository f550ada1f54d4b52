"""The environment decides the configuration; an unsafe production one refuses to start."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
GOOD_SECRET = "k3y-" + "Zx8#qP2!mW5$rT9&vB4*nH7@jL1^cF6(" * 2
TEST_ONLY = (
    "DJANGO_DEBUG",
    "DJANGO_HTTPS",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # Empty rather than absent, so a developer's .env (which manage.py reads) cannot fill them.
    base = {**os.environ, **dict.fromkeys(TEST_ONLY, "")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_refused_with_one_line(result, *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


def test_debug_off_without_a_secret_key_refuses_to_start():
    result = manage("check", DJANGO_DEBUG="0", ALLOWED_HOSTS="b12.example.org")
    assert_refused_with_one_line(result, "SECRET_KEY")


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        ("short-but-random-Zx8#qP2!mW5$", "29 characters, fewer than 50"),
        ("ab" * 30, "2 distinct characters, fewer than 5"),
        ("django-insecure-" + GOOD_SECRET, "starts with 'django-insecure-'"),
    ],
    ids=["shorter-than-50", "fewer-than-5-distinct", "django-insecure-prefix"],
)
def test_debug_off_with_a_weak_secret_key_refuses_to_start(key, rule):
    result = manage("check", DJANGO_DEBUG="0", SECRET_KEY=key, ALLOWED_HOSTS="b12.example.org")
    assert_refused_with_one_line(result, "SECRET_KEY", rule, "W009")
    assert key not in result.stderr


def test_debug_on_accepts_a_weak_secret_key_for_local_development():
    assert manage("check", DJANGO_DEBUG="1", SECRET_KEY="dev").returncode == 0


def test_the_suites_own_secret_key_passes_the_rule():
    env = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    key = next(line for line in env["env"] if "SECRET_KEY=" in line).split("SECRET_KEY=", 1)[1]
    result = manage("check", DJANGO_DEBUG="0", SECRET_KEY=key, ALLOWED_HOSTS="b12.example.org")
    assert result.returncode == 0, result.stderr


def test_debug_off_without_allowed_hosts_refuses_to_start():
    result = manage("check", DJANGO_DEBUG="0", SECRET_KEY=GOOD_SECRET)
    assert_refused_with_one_line(result, "ALLOWED_HOSTS")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG"),
        ({"DATABASE_URL": "not-a-database://x"}, "DATABASE_URL"),
        ({"SITE_TIME_ZONE": "Mars/Olympus"}, "SITE_TIME_ZONE"),
        ({"LOGIN_FAILURE_LIMIT": "five"}, "LOGIN_FAILURE_LIMIT"),
    ],
)
def test_a_malformed_setting_is_named_in_one_line(env, named):
    result = manage("check", SECRET_KEY=GOOD_SECRET, ALLOWED_HOSTS="b12.example.org", **env)
    assert_refused_with_one_line(result, named)


def test_the_production_configuration_passes_check_deploy_with_no_warning():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="0",
        SECRET_KEY=GOOD_SECRET,
        ALLOWED_HOSTS="b12.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_on_starts_without_a_secret_key():
    assert manage("check", DJANGO_DEBUG="1").returncode == 0


@pytest.mark.django_db
def test_pages_send_a_csp_without_inline_scripts_and_deny_framing(client):
    response = client.get("/accounts/login/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_production_sends_hsts_and_secure_cookies(settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.CSRF_COOKIE_SECURE = True
    response = Client().get("/accounts/login/", secure=True)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert response.cookies["csrftoken"]["secure"]


def test_no_template_has_an_inline_script_or_style():
    """The CSP forbids them, so one would silently break in the browser."""
    # A JSON data block (json_script) is not code, and the CSP does not run it.
    inline_script = re.compile(
        r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE
    )
    inline_style = re.compile(r"<style\b|\sstyle=\"|\son[a-z]+=\"", re.IGNORECASE)
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*.html")
        if "email" not in path.parts
        and (inline_script.search(path.read_text()) or inline_style.search(path.read_text()))
    ]
    assert offenders == []
