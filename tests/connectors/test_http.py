"""The shared HTTP layer against scripted MockTransport servers: retries, tokens, pages, caps."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from connectors.http import (
    ApiClient,
    RetryPolicy,
    TokenAuth,
    body_mentions_timeout,
    cursor_pages,
    link_pages,
    next_url_pages,
    page_numbers,
)
from connectors.http._client import loggable_url
from errors import ConnectorError

BASE = "https://api.example.test/v1"
Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, waits: list[float] | None = None, **kwargs: object) -> ApiClient:
    """An ApiClient on a MockTransport whose sleeps are recorded in `waits`, not slept."""
    recorded = waits if waits is not None else []
    return ApiClient(
        "Acme PSA",
        BASE,
        transport=httpx.MockTransport(handler),
        sleep=recorded.append,
        **kwargs,  # type: ignore[arg-type]
    )


def records(first: int, count: int) -> list[dict[str, int]]:
    return [{"id": i} for i in range(first, first + count)]


def scripted(*responses: httpx.Response) -> tuple[Handler, list[httpx.Request]]:
    """A handler answering with `responses` in turn (the last one repeats), and what it saw."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses[min(len(seen), len(responses)) - 1]

    return handle, seen


# Pagination -----------------------------------------------------------------------------------


def test_page_numbers_stops_on_a_short_page() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/company/companies"
        page = int(request.url.params["page"])
        assert request.url.params["pageSize"] == "2"
        assert request.url.params["orderBy"] == "id asc"
        return httpx.Response(200, json=records(page * 10, 2 if page < 3 else 1))

    with client(handle) as api:
        pages = list(page_numbers(api, "/company/companies", params={"orderBy": "id asc"}, size=2))
    assert [[r["id"] for r in p] for p in pages] == [[10, 11], [20, 21], [30]]


def test_page_numbers_zero_based_with_items_inside_the_body() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        content = records(page * 10, 2 if page < 2 else 0)
        return httpx.Response(200, json={"content": content, "page": {"number": page}})

    with client(handle) as api:
        pages = list(
            page_numbers(
                api,
                "/subscriptions",
                size=2,
                first=0,
                size_param="size",
                items=lambda body: body["content"],
            )
        )
    assert [len(p) for p in pages] == [2, 2, 0]


def test_link_pages_follow_rel_next() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        headers = {}
        if page < 3:
            # An internal host name, as behind a reverse proxy: followed on the configured host.
            following = f"https://internal.local/v1/items?pageSize=2&page={page + 1}"
            headers["Link"] = f'<{following}>; rel="next", <https://x/v1/items?page=3>; rel="last"'
        assert request.url.host == "api.example.test"
        return httpx.Response(200, json=records(page * 10, 2), headers=headers)

    with client(handle) as api:
        pages = list(link_pages(api, "/items", params={"pageSize": 2}))
    assert [[r["id"] for r in p] for p in pages] == [[10, 11], [20, 21], [30, 31]]


def test_next_url_pages_with_a_dotted_next_key() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/Companies/query"
        page = int(request.url.params.get("p", "1"))
        following = f"{BASE}/Companies/query?p={page + 1}" if page < 3 else None
        body = {"items": records(page * 10, 2), "pageDetails": {"nextPageUrl": following}}
        return httpx.Response(200, json=body)

    with client(handle) as api:
        pages = list(
            next_url_pages(
                api, "/Companies/query", items_key="items", next_key="pageDetails.nextPageUrl"
            )
        )
    assert [[r["id"] for r in p] for p in pages] == [[10, 11], [20, 21], [30, 31]]


def test_cursor_pages_with_dotted_keys() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        assert request.url.params["state"] == "active"
        page = {None: 1, "c2": 2, "c3": 3}[cursor]
        following = f"c{page + 1}" if page < 3 else None
        body = {
            "data": {"sites": records(page * 10, 2)},
            "pagination": {"nextCursor": following},
        }
        return httpx.Response(200, json=body)

    with client(handle) as api:
        pages = list(
            cursor_pages(
                api,
                "/sites",
                params={"state": "active"},
                items_key="data.sites",
                cursor_key="pagination.nextCursor",
                cursor_param="cursor",
            )
        )
    assert [[r["id"] for r in p] for p in pages] == [[10, 11], [20, 21], [30, 31]]


def test_a_repeated_cursor_is_an_error_not_an_endless_loop() -> None:
    body = {"data": [], "next": "same"}
    handle, _ = scripted(httpx.Response(200, json=body))
    with client(handle) as api, pytest.raises(ConnectorError) as caught:
        list(cursor_pages(api, "/x", items_key="data", cursor_key="next", cursor_param="c"))
    assert caught.value.kind == "schema"


def test_missing_items_key_is_a_schema_error_naming_the_key_and_path() -> None:
    handle, _ = scripted(httpx.Response(200, json={"results": []}))
    with client(handle) as api, pytest.raises(ConnectorError) as caught:
        list(next_url_pages(api, "/Contracts/query", items_key="items", next_key="next"))
    assert caught.value.kind == "schema"
    assert "/v1/Contracts/query" in str(caught.value)
    assert "'items'" in str(caught.value)


def test_a_server_ignoring_the_page_number_is_an_error_not_an_endless_loop() -> None:
    handle, seen = scripted(httpx.Response(200, json=records(1, 2)))
    with client(handle) as api, pytest.raises(ConnectorError) as caught:
        list(page_numbers(api, "/items", size=2))
    assert len(seen) == 2
    assert caught.value.kind == "schema" and '"page"' in str(caught.value)


def test_a_next_link_back_to_a_page_already_read_is_an_error() -> None:
    handle, seen = scripted(
        httpx.Response(200, json=[], headers={"Link": f'<{BASE}/items>; rel="next"'})
    )
    with client(handle) as api, pytest.raises(ConnectorError) as caught:
        list(link_pages(api, "/items"))
    assert len(seen) == 1
    assert caught.value.kind == "schema"


# Retries --------------------------------------------------------------------------------------


def test_429_with_retry_after_seconds_waits_that_long_then_succeeds() -> None:
    handle, seen = scripted(
        httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=[])
    )
    waits: list[float] = []
    with client(handle, waits) as api:
        assert api.get_json("/items") == []
    assert waits == [7.0]
    assert len(seen) == 2


def test_429_with_retry_after_as_an_http_date() -> None:
    now = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
    headers = {
        "Date": format_datetime(now, usegmt=True),
        "Retry-After": format_datetime(now + timedelta(seconds=12), usegmt=True),
    }
    handle, _ = scripted(httpx.Response(429, headers=headers), httpx.Response(200, json={}))
    waits: list[float] = []
    with client(handle, waits) as api:
        assert api.get_json("/items") == {}
    assert waits == [12.0]


def test_503_then_success_backs_off_within_the_cap() -> None:
    handle, seen = scripted(
        httpx.Response(503), httpx.Response(503), httpx.Response(503), httpx.Response(200, json=1)
    )
    waits: list[float] = []
    policy = RetryPolicy(base=1.0, cap=1.5)
    with client(handle, waits, retry=policy) as api:
        assert api.get_json("/items") == 1
    assert len(waits) == 3 and len(seen) == 4
    assert all(0 <= w <= 1.5 for w in waits)


def test_rate_limit_past_the_budget_gives_up_with_a_clear_message() -> None:
    handle, seen = scripted(httpx.Response(429, headers={"Retry-After": "10"}))
    waits: list[float] = []
    with (
        client(handle, waits, retry=RetryPolicy(attempts=10, budget=25)) as api,
        pytest.raises(ConnectorError) as caught,
    ):
        api.get_json("/items")
    assert waits == [10.0, 10.0]  # a third wait would pass 25 s: give up instead
    assert len(seen) == 3
    assert caught.value.kind == "rate_limited"
    assert "Acme PSA" in str(caught.value) and "429" in str(caught.value)
    assert "Try again in a few minutes" in str(caught.value)


def test_rate_limit_past_the_attempts_gives_up() -> None:
    handle, seen = scripted(httpx.Response(429))
    with (
        client(handle, retry=RetryPolicy(attempts=3)) as api,
        pytest.raises(ConnectorError) as caught,
    ):
        api.get_json("/items")
    assert len(seen) == 3
    assert caught.value.kind == "rate_limited"


def test_a_500_is_retried_only_when_the_predicate_says_so() -> None:
    timeout_500 = httpx.Response(500, text='{"message": "Request timeout expired"}')
    handle, seen = scripted(timeout_500, httpx.Response(200, json=[]))
    with client(handle, retry_500=body_mentions_timeout) as api:
        assert api.get_json("/items") == []
    assert len(seen) == 2

    handle, seen = scripted(httpx.Response(500, text="NullReferenceException"))
    with (
        client(handle, retry_500=body_mentions_timeout) as api,
        pytest.raises(ConnectorError) as caught,
    ):
        api.get_json("/items")
    assert len(seen) == 1
    assert caught.value.kind == "server"


def test_a_post_is_not_repeated_after_a_gateway_timeout() -> None:
    handle, seen = scripted(httpx.Response(504), httpx.Response(200, json={}))
    with client(handle) as api, pytest.raises(ConnectorError) as caught:
        api.send("POST", "/ContractServiceAdjustments", json={"unitChange": 1})
    assert len(seen) == 1
    assert caught.value.kind == "server" and caught.value.outcome_unknown


def test_a_post_is_repeated_after_a_503_or_when_declared_idempotent() -> None:
    handle, seen = scripted(httpx.Response(503), httpx.Response(200, json={}))
    with client(handle) as api:
        api.send("POST", "/Contracts/query", json={"filter": []})
    assert len(seen) == 2

    handle, seen = scripted(httpx.Response(504), httpx.Response(200, json={}))
    with client(handle) as api:
        api.send("POST", "/Contracts/query", json={"filter": []}, idempotent=True)
    assert len(seen) == 2


def test_a_patch_failing_with_a_500_may_have_been_applied() -> None:
    handle, seen = scripted(httpx.Response(500))
    with client(handle) as api, pytest.raises(ConnectorError) as caught:
        api.send("PATCH", "/finance/agreements/1/additions/2", json=[])
    assert len(seen) == 1
    assert caught.value.kind == "server" and caught.value.outcome_unknown
    assert "read before sending it again" in str(caught.value)


def test_a_post_read_timeout_is_not_repeated_and_its_outcome_is_unknown() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ReadTimeout("no reply", request=request)

    with client(handle) as api, pytest.raises(ConnectorError) as caught:
        api.send("POST", "/ContractServiceAdjustments", json={"unitChange": 1})
    assert len(seen) == 1
    assert caught.value.kind == "unreachable" and caught.value.outcome_unknown


# Errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "advice"),
    [
        (401, "auth", "Check the keys"),
        (403, "permission", "access"),
        (404, "not_found", "base URL"),
        (400, "rejected", "bad field"),
    ],
)
def test_client_errors_raise_at_once_with_their_kind(status: int, kind: str, advice: str) -> None:
    handle, seen = scripted(httpx.Response(status, json={"message": "bad field"}))
    waits: list[float] = []
    with client(handle, waits) as api, pytest.raises(ConnectorError) as caught:
        api.get_json("/finance/agreements")
    assert len(seen) == 1 and waits == []
    assert caught.value.kind == kind
    assert "Acme PSA" in str(caught.value) and "/v1/finance/agreements" in str(caught.value)
    assert advice in str(caught.value)


def test_a_connect_error_is_retried_then_reported_unreachable() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ConnectError("Connection refused", request=request)

    waits: list[float] = []
    with (
        client(handle, waits, retry=RetryPolicy(attempts=3)) as api,
        pytest.raises(ConnectorError) as caught,
    ):
        api.get_json("/items")
    assert len(seen) == 3 and len(waits) == 2
    assert caught.value.kind == "unreachable"
    assert "api.example.test" in str(caught.value) and "base URL" in str(caught.value)


def test_malformed_json_is_a_schema_error_naming_the_path() -> None:
    handle, _ = scripted(
        httpx.Response(200, text="<html>Sign in</html>", headers={"Content-Type": "text/html"})
    )
    with client(handle) as api, pytest.raises(ConnectorError) as caught:
        api.get_json("/company/companies")
    message = str(caught.value)
    assert caught.value.kind == "schema"
    assert "Acme PSA" in message and "/v1/company/companies" in message
    assert "not JSON" in message and "text/html" in message


# Tokens ---------------------------------------------------------------------------------------


class Tokens:
    """A token endpoint: hands out tok-1, tok-2, ... each living `lifetime` seconds."""

    def __init__(self, lifetime: float = 3600) -> None:
        self.lifetime = lifetime
        self.issued = 0

    def __call__(self) -> tuple[str, float]:
        self.issued += 1
        return f"tok-{self.issued}", self.lifetime


def test_a_401_refreshes_the_token_once_and_retries_once() -> None:
    tokens = Tokens()
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        ok = request.headers["Authorization"] == "Bearer tok-2"
        return httpx.Response(200, json=[]) if ok else httpx.Response(401)

    with client(handle, auth=TokenAuth(tokens)) as api:
        assert api.get_json("/items") == []
    assert tokens.issued == 2
    assert seen == ["Bearer tok-1", "Bearer tok-2"]


def test_a_401_after_a_fresh_token_is_an_auth_error() -> None:
    tokens = Tokens()
    handle, seen = scripted(httpx.Response(401))
    with (
        client(handle, auth=TokenAuth(tokens)) as api,
        pytest.raises(ConnectorError) as caught,
    ):
        api.get_json("/items")
    assert tokens.issued == 2 and len(seen) == 2
    assert caught.value.kind == "auth"


def test_a_token_is_reused_until_a_minute_before_it_expires() -> None:
    tokens = Tokens(lifetime=3600)
    now = [1000.0]
    auth = TokenAuth(tokens, clock=lambda: now[0])
    assert auth.token() == "tok-1"
    now[0] += 3600 - 61
    assert auth.token() == "tok-1"
    now[0] += 1
    assert auth.token() == "tok-2"
    assert tokens.issued == 2


# Concurrency and logs -------------------------------------------------------------------------


def test_the_concurrency_cap_is_honoured() -> None:
    lock = threading.Lock()
    in_flight = 0
    most = 0

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.05)
        with lock:
            in_flight -= 1
        return httpx.Response(200, json=[])

    with client(handle, concurrency=3) as api:
        threads = [threading.Thread(target=api.get_json, args=("/items",)) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert most == 3


def test_logs_carry_no_token_or_secret(caplog: pytest.LogCaptureFixture) -> None:
    handle, _ = scripted(httpx.Response(401), httpx.Response(429), httpx.Response(200, json=[]))
    headers = {"ApiIntegrationCode": "INTEGRATION-XYZ", "Secret": "hunter2", "clientId": "cid-9"}
    caplog.set_level(logging.DEBUG)
    with client(handle, auth=TokenAuth(lambda: ("tok-SECRET", 3600)), headers=headers) as api:
        api.get_json("/items", params={"access_token": "qs-SECRET", "page": 2})
    text = caplog.text
    assert "GET https://api.example.test/v1/items?access_token=%2A%2A%2A&page=2 -> 200" in text
    assert "-> 401: fetching a new token" in text and "-> 429" in text
    for secret in ("tok-SECRET", "qs-SECRET", "INTEGRATION-XYZ", "hunter2", "cid-9"):
        assert secret not in text


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        ("https://u:pw@h.test/a?page=2&sig=abc", "https://h.test/a?page=2&sig=%2A%2A%2A"),
        (
            "https://h.test/a?clientId=c&conditions=x",
            "https://h.test/a?clientId=%2A%2A%2A&conditions=x",
        ),
        ("https://h.test/a?assignee=bob", "https://h.test/a?assignee=bob"),
    ],
)
def test_loggable_urls_mask_credentials_and_secret_parameters(url: str, logged: str) -> None:
    assert loggable_url(httpx.URL(url)) == logged
