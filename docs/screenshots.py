"""Take the README's screenshots of the patient's pages from the demo data.

Run with the app started by `make run` (demo data loaded) at http://127.0.0.1:8000:
    .venv/bin/python docs/screenshots.py [--base http://127.0.0.1:8000]
Writes docs/screenshots/<page>-<phone|desktop>.png with Debian's Chromium.
"""

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent / "screenshots"
PAGES = {
    "patient-today": "/me/today/",
    "patient-schedule": "/me/schedule/",
    "patient-labs": "/me/labs/",
    "patient-reminders": "/me/reminders/",
}
SIZES = {"phone": (360, 740), "desktop": (1280, 800)}
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    base = parser.parse_args().base
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for size, (width, height) in SIZES.items():
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(base + "/accounts/login/")
            page.get_by_label("Username").fill("patient1")
            page.get_by_label("Password").fill("b12-demo-password")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/me/today/")
            for name, path in PAGES.items():
                page.goto(base + path)
                page.wait_for_timeout(1500)  # let the chart finish drawing
                page.screenshot(path=str(OUT / f"{name}-{size}.png"), full_page=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
