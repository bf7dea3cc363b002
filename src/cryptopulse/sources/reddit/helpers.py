"""Reddit clients (live with app-only OAuth, and replay) for `GET /r/{sub}/new`."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import threading
from pathlib import Path
from typing import Any

import httpx

from cryptopulse import __version__
from cryptopulse.sources.http import ApiClient, Fetched, SourceError
from cryptopulse.sources.reddit import settings as s


class TokenExpired(SourceError):
    """The API refused the bearer token (it expired); a new one is fetched once."""


def resolve_user_agent(value: str | None) -> str:
    """The User-Agent Reddit requires: `value`, else $CRYPTOPULSE_REDDIT_USER_AGENT; an error if both are empty."""
    agent = (value or os.environ.get(s.USER_AGENT_ENV) or "").strip()
    if not agent:
        example = s.USER_AGENT_EXAMPLE.format(version=__version__)
        raise SourceError(f"reddit: a unique User-Agent is required: set {s.USER_AGENT_ENV}='{example}'")
    return agent


class RedditClient(ApiClient):
    """Live `/r/{sub}/new` with an app-only token; client credentials given, else from `REDDIT_CLIENT_ID` / `REDDIT_CLIENT_SECRET`."""

    source = s.SOURCE

    def __init__(self, user_agent: str | None = None, base_url: str | None = None, auth_url: str | None = None,
                 calls_per_minute: float = s.CALLS_PER_MINUTE, client_id: str | None = None, client_secret: str | None = None,
                 **options: Any) -> None:
        client_id = client_id or os.environ.get(s.CLIENT_ID_ENV, "")
        secret = client_secret or os.environ.get(s.CLIENT_SECRET_ENV, "")
        if not client_id or not secret:
            raise SourceError(f"reddit: set {s.CLIENT_ID_ENV} and {s.CLIENT_SECRET_ENV} (a 'script' or 'web' app at reddit.com/prefs/apps)")
        options.setdefault("timeout", s.TIMEOUT_S)
        super().__init__(
            base_url or os.environ.get(s.BASE_URL_ENV) or s.BASE_URL,
            headers={"user-agent": resolve_user_agent(user_agent)},
            calls_per_minute=calls_per_minute,
            rate_headers=s.RATE_HEADERS,
            **options,
        )
        self.auth_url = auth_url or os.environ.get(s.AUTH_URL_ENV) or s.AUTH_URL
        self._credentials = (client_id, secret)
        self.add_secret(secret)
        self._token_lock = threading.Lock()
        self._token: str | None = None

    def new(self, subreddit: str, after: str | None = None) -> Fetched:
        """One page of the subreddit's newest posts, older than the fullname `after`."""
        params = {"limit": s.PAGE_LIMIT, "after": after, "raw_json": 1}
        self._authorize()
        try:
            return self.get_json(f"/r/{subreddit}/new", params)
        except TokenExpired:
            self._authorize(renew=True)
            return self.get_json(f"/r/{subreddit}/new", params)

    def classify(self, response: httpx.Response, method: str, path: str) -> SourceError | None:
        status = response.status_code
        if status == 401 and path.startswith("/r/"):
            return TokenExpired(f"reddit: {method} {path} refused the access token (HTTP 401)")
        if status in (401, 403) and path == httpx.URL(self.auth_url).path:
            return SourceError(f"reddit: {method} {path} refused the app credentials (HTTP {status}): "
                               f"check {s.CLIENT_ID_ENV} and {s.CLIENT_SECRET_ENV}")
        if status == 403:
            return SourceError(f"reddit: {method} {path} is forbidden (HTTP 403): a private, banned or quarantined subreddit?")
        if status == 404:
            return SourceError(f"reddit: {method} {path} not found (HTTP 404): check the subreddit name")
        return None

    def _authorize(self, renew: bool = False) -> None:
        with self._token_lock:
            if self._token and not renew:
                return
            fetched = self.request_json("POST", self.auth_url, data={"grant_type": "client_credentials"}, auth=self._credentials)
            token = fetched.body.get("access_token") if isinstance(fetched.body, dict) else None
            if not token:
                raise SourceError(f"reddit: POST {fetched.path} returned no access token: "
                                  f"check {s.CLIENT_ID_ENV} and {s.CLIENT_SECRET_ENV}")
            self.add_secret(token)
            self._token = token
            self._http.headers["authorization"] = f"bearer {token}"


class ReplayClient:
    """Serves recorded `/r/{sub}/new` listings (JSONL, optionally gzipped, e.g. a lake's `raw/reddit/reddit/posts`) as if live.

    Posts are grouped by their `subreddit` field and paged newest first with `after`, like the API.
    """

    source = s.SOURCE

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.retries = 0
        self.requests = 0
        posts: dict[str, dict[str, dict[str, Any]]] = {}
        for path in sorted(Path(folder).rglob("*.jsonl*")):
            data = path.read_bytes()
            for line in (gzip.decompress(data) if path.suffix == ".gz" else data).splitlines():
                for child in json.loads(line).get("data", {}).get("children", []) if line.strip() else []:
                    d = child.get("data", {})
                    posts.setdefault(str(d.get("subreddit", "")).lower(), {})[d.get("name")] = child
        self._posts = {sub: sorted(found.values(), key=lambda c: -(c["data"].get("created_utc") or 0)) for sub, found in posts.items()}

    def new(self, subreddit: str, after: str | None = None) -> Fetched:
        self.requests += 1
        posts = self._posts.get(subreddit.lower(), [])
        names = [c["data"].get("name") for c in posts]
        offset = names.index(after) + 1 if after in names else (len(posts) if after else 0)
        children = posts[offset : offset + s.PAGE_LIMIT]
        more = offset + s.PAGE_LIMIT < len(posts)
        body = {"kind": "Listing", "data": {"after": children[-1]["data"]["name"] if more and children else None,
                                            "before": None, "dist": len(children), "children": children}}
        params = {"limit": s.PAGE_LIMIT, "after": after, "raw_json": 1}
        return Fetched(body, 200, httpx.Headers(), f"/r/{subreddit}/new", {k: v for k, v in params.items() if v is not None},
                       dt.datetime.now(dt.UTC), "reddit-replay")

    def close(self) -> None:
        pass
