"""One HTTP layer for every connector: retries, tokens, pagination, a concurrency cap, safe logs."""

from connectors.http._auth import TokenAuth
from connectors.http._client import ApiClient, body_mentions_timeout
from connectors.http._pages import cursor_pages, link_pages, next_url_pages, page_numbers
from connectors.http._progress import Meter, Reading, current_meter, metering
from connectors.http._retry import RetryPolicy, Sleep

__all__ = [
    "ApiClient",
    "Meter",
    "Reading",
    "RetryPolicy",
    "Sleep",
    "TokenAuth",
    "body_mentions_timeout",
    "current_meter",
    "cursor_pages",
    "link_pages",
    "metering",
    "next_url_pages",
    "page_numbers",
]
