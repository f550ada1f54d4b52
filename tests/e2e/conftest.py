"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Every test runs at a phone width and a desktop width (the `viewport` fixture). At phone width
the navigation is collapsed behind the "Show menu" button, so helpers that use the nav open it.
Screenshots are written only when SCREENSHOTS=1, so the normal suite leaves no files behind.
"""

import base64
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.urls import reverse
from django_otp.oath import TOTP
from playwright.sync_api import ConsoleMessage, Page, Response, expect

SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int

    @property
    def is_phone(self) -> bool:
        return self.name == "phone"


@pytest.fixture(autouse=True)
def pages_load_cleanly(page: Page):
    """Fail a test whose pages could not load a static file, or broke a script or the CSP."""
    problems: list[str] = []

    def check_response(response: Response) -> None:
        if "/static/" in response.url and response.status >= 400:
            problems.append(f"{response.status} {response.url}")

    def check_console(message: ConsoleMessage) -> None:
        # A page answering 4xx on purpose (the lockout page's 429) is logged as a failed load.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console: {message.text}")

    page.on("response", check_response)
    page.on("console", check_console)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    yield
    assert not problems, f"the pages did not load cleanly: {problems}"


@pytest.fixture(
    params=[Viewport("phone", 360, 740), Viewport("desktop", 1280, 800)],
    ids=["phone", "desktop"],
)
def viewport(request, page: Page) -> Viewport:
    size: Viewport = request.param
    page.set_viewport_size({"width": size.width, "height": size.height})
    return size


def sign_in(page: Page, live_server, username: str, password: str) -> None:
    """Fill the sign-in form the way a person does: by its labels, then the button."""
    page.goto(live_server.url + reverse("accounts:login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def enter_code(page: Page, code: str) -> None:
    """Answer the "Enter your code" page with a TOTP or recovery code."""
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Verify").click()


def open_menu(page: Page, viewport: Viewport) -> None:
    """At phone width the nav is collapsed: open it as a person would, with the toggler."""
    nav = page.get_by_role("navigation", name="Main")
    toggler = nav.get_by_role("button", name="Show menu")
    if viewport.is_phone:
        expect(nav.get_by_role("button", name="Sign out")).to_be_hidden()
        toggler.click()
        expect(toggler).to_have_attribute("aria-expanded", "true")
        # Bootstrap animates the menu open ("collapsing"); a click during that can be lost.
        expect(page.locator("#main-nav")).to_have_class(re.compile(r"\bshow\b"))
    else:
        expect(toggler).to_be_hidden()
    expect(nav.get_by_role("button", name="Sign out")).to_be_visible()


def sign_out(page: Page, viewport: Viewport) -> None:
    open_menu(page, viewport)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def code_from_secret(secret: str) -> str:
    """What an authenticator app shows now for the base32 key typed into it."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    return f"{TOTP(key).token():06d}"


def screenshot(page: Page, name: str, viewport: Viewport) -> None:
    """Save `<name>-<phone|desktop>.png` for the docs, only when SCREENSHOTS=1."""
    if os.environ.get("SCREENSHOTS") != "1":
        return
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / f"{name}-{viewport.name}.png"), full_page=True)


AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def assert_accessible(page: Page) -> None:
    """Run axe-core (from the npm registry, see package.json) for WCAG 2.1 A and AA.

    The page's CSP forbids injected scripts, so tests that call this use a context that
    bypasses it (`browser_context_args` in the test module).
    """
    page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate("(tags) => axe.run(document, {runOnly: tags})", WCAG_AA)
    problems = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
        for violation in results["violations"]
    ]
    assert not problems, f"{page.url} has accessibility problems: {problems}"
