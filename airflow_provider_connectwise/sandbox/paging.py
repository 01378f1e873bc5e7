"""Paging, written once: offset paging (``page``/``pageSize``) and forward-only paging (``pageId``),
plus the RFC 5988 ``Link`` header. Used by every ConnectWise list and (for slicing) by Addigy lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .exceptions import BadRequest

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class PageRequest:
    """Which page a client asked for.

    ``page`` is 1-based. ``page_size`` is clamped to ``[1, MAX_PAGE_SIZE]`` the way ConnectWise clamps
    it (a larger value silently yields 1000 items). ``page_id`` only counts in forward-only mode, where
    it means ``id > page_id``.
    """

    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    page_id: int | None = None
    forward_only: bool = False

    @classmethod
    def from_query(
        cls,
        query: Mapping[str, str],
        *,
        forward_only: bool = False,
        max_page_size: int = MAX_PAGE_SIZE,
        default_page_size: int = DEFAULT_PAGE_SIZE,
    ) -> PageRequest:
        page = _int(query, "page", 1)
        size = _int(query, "pageSize", default_page_size)
        page_id = _int(query, "pageId", None)
        if page is None or page < 1:
            page = 1
        if size is None or size < 1:
            size = default_page_size
        return cls(page=page, page_size=min(size, max_page_size), page_id=page_id, forward_only=forward_only)


def _int(query: Mapping[str, str], name: str, default: int | None) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"The value '{raw}' is not valid for {name}.") from None


@dataclass
class Page:
    """One page of results and what is needed to link to the others."""

    items: list[Any]
    request: PageRequest
    total: int | None
    has_next: bool
    next_page_id: int | None = None

    @property
    def page_count(self) -> int | None:
        if self.total is None:
            return None
        return max(1, -(-self.total // self.request.page_size))


def page_slice(items: Sequence[Any], request: PageRequest) -> Page:
    """Offset paging over an already filtered and ordered sequence."""
    start = (request.page - 1) * request.page_size
    chunk = list(items[start : start + request.page_size])
    return Page(chunk, request, len(items), has_next=start + request.page_size < len(items))


def page_forward(items: Iterable[Any], request: PageRequest, id_of: Callable[[Any], int]) -> Page:
    """Forward-only paging: ``items`` yields matches in ascending id order, already after ``page_id``."""
    chunk: list[Any] = []
    has_next = False
    for item in items:
        if len(chunk) == request.page_size:
            has_next = True
            break
        chunk.append(item)
    next_id = id_of(chunk[-1]) if chunk and has_next else None
    return Page(chunk, request, None, has_next=has_next, next_page_id=next_id)


def link_header(url: str, query_items: Sequence[tuple[str, str]], page: Page) -> str | None:
    """RFC 5988 ``Link`` value (``first``/``prev``/``next``/``last``; forward-only has ``next`` only).

    ``url`` is the request URL without its query string; the other query parameters (conditions,
    fields, orderBy, ...) are kept in every link.
    """
    kept = [(k, v) for k, v in query_items if k.lower() not in ("page", "pagesize", "pageid")]
    size = page.request.page_size

    def href(**params: int) -> str:
        extra = [(k, str(v)) for k, v in params.items()]
        return f"<{url}?{urlencode([*kept, ('pageSize', str(size)), *extra])}>"

    links: list[str] = []
    if page.request.forward_only:
        if page.has_next and page.next_page_id is not None:
            links.append(f'{href(pageId=page.next_page_id)}; rel="next"')
    else:
        current, last = page.request.page, page.page_count or 1
        if current > 1:
            links.append(f'{href(page=1)}; rel="first"')
            links.append(f'{href(page=min(current - 1, last))}; rel="prev"')
        if page.has_next:
            links.append(f'{href(page=current + 1)}; rel="next"')
            links.append(f'{href(page=last)}; rel="last"')
    return ", ".join(links) or None
