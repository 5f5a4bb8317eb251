"""Pagination: each helper yields a source's records a page at a time, as lists of dicts."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx

from connectors.http._client import ApiClient

Page = list[dict[str, Any]]
# What an `items` function gives back: the page's records, checked to be a list of JSON objects.
Items = Callable[[Any], Sequence[Mapping[str, Any]]]


def _body_as_list(body: Any) -> Any:
    return body


def page_numbers(
    client: ApiClient,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    page_param: str = "page",
    size_param: str = "pageSize",
    size: int = 1000,
    first: int = 1,
    items: Items = _body_as_list,
) -> Iterator[Page]:
    """Yields pages asked for by number (`first`, `first` + 1, ...) until one is short of `size`.

    `size` must not exceed the server's largest page: a server that caps it would send a short
    first page, and the rest would never be asked for.
    """
    number = first
    previous: Page | None = None
    while True:
        query = {**(params or {}), page_param: number, size_param: size}
        response = client.send("GET", path, params=query)
        page = _records(client, response, items)
        if page and page == previous:  # the server ignores the page number: stop, do not loop
            raise _shape(
                client,
                response,
                f'page {number} repeats page {number - 1}; is "'
                f'{page_param}" the right page parameter?',
            )
        yield page
        if len(page) < size:
            return
        previous = page
        number += 1


def link_pages(
    client: ApiClient,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    items: Items = _body_as_list,
) -> Iterator[Page]:
    """Yields pages following each reply's `Link: <url>; rel="next"` header until there is none."""
    response = client.send("GET", path, params=params)
    seen = {str(response.request.url)}
    while True:
        yield _records(client, response, items)
        following = response.links.get("next", {}).get("url")
        if not following:
            return
        response = client.send("GET", _unseen(client, response, following, seen))


def next_url_pages(
    client: ApiClient,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    items_key: str,
    next_key: str,
) -> Iterator[Page]:
    """Yields `body[items_key]` of each reply, following the next page's URL at `body[next_key]`.

    Keys may be dotted to reach into nested objects, e.g. "pageDetails.nextPageUrl".
    """
    response = client.send("GET", path, params=params)
    seen = {str(response.request.url)}
    while True:
        body = client.parse_json(response)
        yield _records(client, response, lambda b: _dig(b, items_key), body=body)
        following = _dig(body, next_key, required=False)
        if not following:
            return
        if not isinstance(following, str):
            raise _shape(client, response, f'"{next_key}" is not a URL')
        response = client.send("GET", _unseen(client, response, following, seen))


def cursor_pages(
    client: ApiClient,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    items_key: str,
    cursor_key: str,
    cursor_param: str,
) -> Iterator[Page]:
    """Yields `body[items_key]` of each reply, sending `body[cursor_key]` back as `cursor_param`.

    Keys may be dotted, e.g. "pagination.nextCursor"; an empty or missing cursor ends it.
    """
    query = dict(params or {})
    seen: set[str] = set()
    while True:
        response = client.send("GET", path, params=query)
        body = client.parse_json(response)
        yield _records(client, response, lambda b: _dig(b, items_key), body=body)
        cursor = _dig(body, cursor_key, required=False)
        if cursor is None or cursor == "":
            return
        if str(cursor) in seen:  # a cursor that comes round again would page for ever
            raise _shape(client, response, f'"{cursor_key}" repeats an earlier cursor')
        seen.add(str(cursor))
        query[cursor_param] = cursor


_MISSING = object()


def _dig(body: Any, dotted: str, *, required: bool = True) -> Any:
    """Gives body["a"]["b"] for "a.b"; KeyError when required and absent, else None."""
    value = body
    for key in dotted.split("."):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif required:
            raise KeyError(dotted)
        else:
            return None
    return value


def _records(
    client: ApiClient,
    response: httpx.Response,
    items: Callable[[Any], Any],
    *,
    body: Any = _MISSING,
) -> Page:
    """Gives the page's records, checking they are a list of objects."""
    if body is _MISSING:
        body = client.parse_json(response)
    try:
        page = items(body)
    except KeyError as exc:
        raise _shape(client, response, f"it has no {exc.args[0]!r}") from exc
    except (TypeError, IndexError, AttributeError) as exc:
        raise _shape(client, response, f"its records could not be found ({exc})") from exc
    if not isinstance(page, list):
        raise _shape(client, response, f"expected a list of records, got {type(page).__name__}")
    if not all(isinstance(record, dict) for record in page):
        raise _shape(client, response, "some records are not JSON objects")
    if client.meter is not None:
        client.meter.page(len(page))
    return list(page)


def _shape(client: ApiClient, response: httpx.Response, what: str) -> Exception:
    return client.schema_error(response.request.url.path, what)


def _on_base(client: ApiClient, url: str) -> str:
    """Gives a next-page URL on the client's own scheme, host and port.

    Credentials go only to the configured server: a link naming another host (an internal
    name behind a reverse proxy, say) is followed on the configured one.
    """
    target = httpx.URL(url)
    if target.is_relative_url:
        return str(client.base_url.join(target))
    base = client.base_url
    return str(target.copy_with(scheme=base.scheme, host=base.host, port=base.port))


def _unseen(client: ApiClient, response: httpx.Response, url: str, seen: set[str]) -> str:
    """Gives the next page's URL on the client's host, unless it was asked for already."""
    following = _on_base(client, url)
    if following in seen:
        raise _shape(client, response, "its next page is one already read")
    seen.add(following)
    return following
