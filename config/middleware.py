"""Project-wide response policy that belongs to no app."""

from django.http import HttpRequest, HttpResponse

# Fetched by the browser on its own, signed in or not, and carrying nobody's data; they keep
# the caching their views chose. (Static files never get here: WhiteNoise answers first.)
CACHEABLE_VIEWS = frozenset({"health", "service_worker", "web_app_manifest"})
# Read without a session, by a calendar app holding the feed's secret address.
PRIVATE_WITHOUT_SESSION_VIEWS = frozenset({"calendar_feed_ics"})


class NoStoreMiddleware:
    """Every response to a signed-in person, and every calendar feed, says `no-store`.

    Pages, CSV exports and reports carry health data: no browser cache, shared computer's
    back button or proxy may keep a copy. This replaces whatever caching a view chose, so a
    new page cannot forget it. Anonymous pages (the sign-in page, password reset) keep theirs.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if _is_private(request):
            response["Cache-Control"] = "no-store"
            # For HTTP/1.0 caches, which know no Cache-Control.
            response["Pragma"] = "no-cache"
        return response


def _is_private(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match else None
    if view_name in CACHEABLE_VIEWS:
        return False
    if view_name in PRIVATE_WITHOUT_SESSION_VIEWS:
        return True
    # Read after the view: the response to a sign-in is private, the one to a sign-out not.
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)
