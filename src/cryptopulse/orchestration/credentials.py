"""API credentials for a run: from an Airflow connection when one is defined, else from the sources' environment variables.

- `cryptopulse_coingecko`: password = API key (extra `{"plan": "pro"}` for a pro key); else COINGECKO_*_API_KEY, else keyless;
- `cryptopulse_x`: password = app-only bearer token; else X_BEARER_TOKEN;
- `cryptopulse_reddit`: login = client id, password = secret, extra `{"user_agent": …}`; else REDDIT_CLIENT_ID/SECRET.

Nothing here is logged or written to the lake; the clients redact what they are given.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptopulse.sources.reddit import settings as reddit
from cryptopulse.sources.x import settings as x

COINGECKO_CONN, X_CONN, REDDIT_CONN = "cryptopulse_coingecko", "cryptopulse_x", "cryptopulse_reddit"

# conn id → an Airflow Connection (login, password, extra_dejson), or None when it is not defined
ConnectionLookup = Callable[[str], Any]


def no_connections(conn_id: str) -> None:
    return None


@dataclass(frozen=True)
class RedditApp:
    client_id: str
    client_secret: str = field(repr=False)
    user_agent: str | None = None


def coingecko_keys(connection: ConnectionLookup = no_connections) -> dict[str, str]:
    """`{"pro_key": …}` or `{"demo_key": …}` from the connection; empty when there is none (the client then reads the environment)."""
    conn = connection(COINGECKO_CONN)
    if conn is None or not conn.password:
        return {}
    plan = str(conn.extra_dejson.get("plan", "demo")).lower()
    return {"pro_key": conn.password} if plan == "pro" else {"demo_key": conn.password}


def x_token(connection: ConnectionLookup = no_connections) -> str | None:
    """The bearer token from the connection, else `X_BEARER_TOKEN`; None when neither is set (the task is skipped)."""
    conn = connection(X_CONN)
    return (conn.password if conn is not None else None) or os.environ.get(x.TOKEN_ENV) or None


def reddit_app(connection: ConnectionLookup = no_connections) -> RedditApp | None:
    """The app's client credentials from the connection, else the environment; None when incomplete (the task is skipped)."""
    conn = connection(REDDIT_CONN)
    if conn is not None and conn.login and conn.password:
        return RedditApp(conn.login, conn.password, conn.extra_dejson.get("user_agent"))
    client_id, secret = os.environ.get(reddit.CLIENT_ID_ENV), os.environ.get(reddit.CLIENT_SECRET_ENV)
    return RedditApp(client_id, secret) if client_id and secret else None
