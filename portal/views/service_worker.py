"""The service worker and the web app manifest: they make the app installable and able to
receive browser push. Both are served from the root, so that their scope is the whole site."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpResponse, JsonResponse
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

SERVICE_WORKER = "js/sw.js"
THEME_COLOUR = "#0b5394"


@require_GET
@cache_control(no_cache=True)
def service_worker(request):
    """The service worker, served from the root so that its scope is the whole site."""
    response = HttpResponse(_service_worker_source(), content_type="application/javascript")
    response["Service-Worker-Allowed"] = "/"
    return response


def _service_worker_source() -> bytes:
    # The source file through the finders (static/ in the checkout); in a deployment without
    # the sources, the collected copy under its unhashed name.
    path = finders.find(SERVICE_WORKER)
    if path:
        return Path(path).read_bytes()
    with staticfiles_storage.open(SERVICE_WORKER) as source:
        return source.read()


@require_GET
@cache_control(no_cache=True)
def web_app_manifest(request):
    """Lets the app be added to the home screen; iPhones deliver push only to such an app."""
    icons = [
        {"src": static(f"img/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png"}
        for size in (192, 512)
    ]
    maskable = [{**icon, "purpose": "maskable"} for icon in icons]
    manifest = {
        "id": "/",
        "name": _("B12 Clinic"),
        "short_name": _("B12"),
        "description": _("Your vitamin B12 injections: reminders, doses and symptoms."),
        "lang": settings.LANGUAGE_CODE,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "icons": [*icons, *maskable],
    }
    return JsonResponse(
        manifest, content_type="application/manifest+json", json_dumps_params={"indent": 2}
    )
