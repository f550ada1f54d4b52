"""Who is asking: the client's address, the same for the sign-in lockout and the audit log.

Behind a reverse proxy every request arrives from the proxy's address, so locking out "that
username from that address" would lock it out for everyone. The address in front of the
proxies is read from `X-Forwarded-For` only when `TRUSTED_PROXY_COUNT` says how many proxies
stand in front of the app: each of them appends the address it received the request from, so
the client is that many entries from the right. Anything further left was written by the
client itself and is never believed. With no trusted proxy the header is ignored altogether.

The header is parsed by django-ipware (the library django-axes uses), which validates each
entry as an IP address.
"""

from django.conf import settings
from django.http import HttpRequest
from ipware.ip import get_client_ip


def client_ip(request: HttpRequest) -> str | None:
    """The client's IP address, or None when the request carries none that parses."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        # ipware counts the proxies named inside the header; the last proxy in front of us
        # is REMOTE_ADDR, not in the header, hence proxies - 1.
        address, _routable = get_client_ip(
            request,
            proxy_order="left-most",
            proxy_count=proxies - 1,
            request_header_order=["HTTP_X_FORWARDED_FOR"],
            strict=False,
        )
        if address:
            return address
        # No usable header: the request did not come through the proxies (a health check
        # from inside the network), so the connection's own address is the client.
    address, _routable = get_client_ip(request, request_header_order=["REMOTE_ADDR"])
    return address
