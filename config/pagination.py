"""A long list shown a page at a time, read the same way on every list page of both front ends.

At the project level because the workspace and the portal both use it and neither may import
the other; it knows nothing of the domain.
"""

from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def page_of(request: HttpRequest, items, *, size: int, number: str | None = None) -> Page:
    """The page of `items`, `size` to a page, that the query's `page` asks for: the first when
    it names no page, the last when it names one past the end (`Paginator.get_page`). A page
    whose number was already read and checked passes it as `number`."""
    return Paginator(items, size).get_page(request.GET.get("page") if number is None else number)
