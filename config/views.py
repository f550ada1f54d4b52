"""Project-level views that belong to no app."""

from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
def health(request):
    """Liveness for a load balancer or process manager: the web process answers. It reads no
    database on purpose, so a database outage does not take every web process out of rotation
    (the pages themselves report that). The workspace benchmark uses it as its trivial view."""
    return HttpResponse("ok\n", content_type="text/plain")
