"""Build a source's API client, for the command line and the DAG alike: live, or replaying recorded payloads."""

from __future__ import annotations

from typing import Any

from cryptopulse.sources.coingecko import helpers as coingecko
from cryptopulse.sources.http import ApiClient
from cryptopulse.sources.reddit import helpers as reddit
from cryptopulse.sources.x import helpers as x

LIVE: dict[str, type[ApiClient]] = {"coingecko": coingecko.CoinGeckoClient, "x": x.XClient, "reddit": reddit.RedditClient}
REPLAY = {"coingecko": coingecko.ReplayClient, "x": x.ReplayClient, "reddit": reddit.ReplayClient}

Replaying = coingecko.ReplayClient | x.ReplayClient | reddit.ReplayClient


def api_client(source: str, replay: str | None = None, calls_per_minute: float | None = None,
               **options: Any) -> ApiClient | Replaying:
    """`source`'s client: replaying the folder `replay` when given, else live with `options` (credentials, attempts)
    at `calls_per_minute` (None or 0: the plan's pace)."""
    if replay is not None:
        return REPLAY[source](replay)
    if calls_per_minute:
        options["calls_per_minute"] = calls_per_minute
    return LIVE[source](**options)
