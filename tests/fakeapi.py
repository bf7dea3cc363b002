"""A local fake of the CoinGecko, X and Reddit APIs on 127.0.0.1: scriptable routes, injected faults, recorded requests."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from realdata import real

SECRET = "sk-test-SECRET-123"


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes
    time: float


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-able, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    cut: bool = False  # announce the full length, send half, close: a dropped connection

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return b"" if self.body is None else json.dumps(self.body).encode()


Handler = Callable[[Request], Reply]
Fault = Callable[[Request, Handler, "Reply | None"], Reply]


class Faults:
    """Fault constructors: each returns what the route serves instead of (or made from) its normal reply."""

    @staticmethod
    def status(code: int, retry_after: str | None = None, headers: dict[str, str] | None = None, body: Any = None) -> Fault:
        extra = {**({"Retry-After": retry_after} if retry_after is not None else {}), **(headers or {})}
        return lambda req, normal, last: Reply(code, body if body is not None else {"error": f"injected {code}"}, extra)

    @staticmethod
    def hang(seconds: float) -> Fault:
        return lambda req, normal, last: Reply(200, normal(req).body, delay=seconds)

    @staticmethod
    def truncated() -> Fault:
        """A 200 whose JSON stops halfway (the length header matches what is sent)."""
        return lambda req, normal, last: Reply(200, normal(req).payload()[: max(1, len(normal(req).payload()) // 2)])

    @staticmethod
    def cut() -> Fault:
        """A 200 whose connection drops halfway through the announced body."""
        return lambda req, normal, last: Reply(200, normal(req).body, cut=True)

    @staticmethod
    def invalid_json() -> Fault:
        return lambda req, normal, last: Reply(200, b"<html><body>Bad gateway, try later</body></html>")

    @staticmethod
    def transform(change: Callable[[Any, Request], Any]) -> Fault:
        """The normal reply with its body changed by `change(body, request)` (e.g. an empty page)."""
        def fault(req: Request, normal: Handler, last: Reply | None) -> Reply:
            reply = normal(req)
            return Reply(reply.status, change(json.loads(json.dumps(reply.body)), req), reply.headers)
        return fault

    @staticmethod
    def repeat() -> Fault:
        """The previous reply of this route, served again."""
        return lambda req, normal, last: last if last is not None else normal(req)

    @staticmethod
    def crash() -> Fault:
        """Close the connection without answering."""
        return lambda req, normal, last: Reply(200, b"", cut=True)


class FakeAPI:
    """A threaded HTTP server on 127.0.0.1 with regex routes; faults queued per route are served in order first."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._faults: dict[str, list[tuple[int, Fault]]] = {}
        self._seen: dict[str, int] = {}
        self._last: dict[tuple[str, str | None], Reply] = {}
        self._lock = threading.Lock()
        api = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                api._serve(self, "GET")

            def do_POST(self) -> None:
                api._serve(self, "POST")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.server.handle_error = lambda request, address: None
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(pattern), handler))

    def inject(self, pattern: str, *faults: Fault, after: int = 0) -> None:
        """Serve `faults` to the next requests matching `pattern`, after `after` more normal ones."""
        with self._lock:
            start = self._seen.get(pattern, 0) + after
            queue = self._faults.setdefault(pattern, [])
            queue.extend((start + i, f) for i, f in enumerate(faults))

    def paths(self, prefix: str = "") -> list[str]:
        return [r.path for r in self.requests if r.path.startswith(prefix)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _serve(self, http: BaseHTTPRequestHandler, method: str) -> None:
        split = urlsplit(http.path)
        length = int(http.headers.get("Content-Length") or 0)
        body = http.rfile.read(length) if length else b""
        params = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        if http.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            params.update({k: v[0] for k, v in parse_qs(body.decode()).items()})
        req = Request(method, split.path, params, {k.lower(): v for k, v in http.headers.items()}, body, time.monotonic())
        reply = self._reply(req)
        if reply.delay:
            time.sleep(reply.delay)
        payload = reply.payload()
        try:
            http.send_response(reply.status)
            http.send_header("Content-Type", "application/json")
            http.send_header("Content-Length", str(len(payload)))
            for k, v in reply.headers.items():
                http.send_header(k, v)
            if reply.cut:
                http.send_header("Connection", "close")
            http.end_headers()
            http.wfile.write(payload[: len(payload) // 2] if reply.cut else payload)
            http.wfile.flush()
            if reply.cut:
                http.close_connection = True
        except OSError:
            http.close_connection = True

    def _reply(self, req: Request) -> Reply:
        with self._lock:
            self.requests.append(req)
            handler = next((h for m, p, h in self._routes if m == req.method and p.fullmatch(req.path)), None)
            if handler is None:
                return Reply(404, {"error": f"no route for {req.method} {req.path}"})
            fault = None
            for key, queue in self._faults.items():
                if re.fullmatch(key, req.path):
                    n = self._seen.get(key, 0)
                    self._seen[key] = n + 1
                    due = [i for i, (at, _) in enumerate(queue) if at == n]
                    if due:
                        fault = queue.pop(due[0])[1]
            same = (req.path, req.params.get("query"))  # a page repeats within one listing or search
            last = self._last.get(same)
        reply = fault(req, handler, last) if fault else handler(req)
        with self._lock:
            self._last[same] = reply
        return reply


class KilledAfter:
    """A client whose `method` raises KeyboardInterrupt (the run is killed) after `n` calls; the rest passes through."""

    def __init__(self, inner: Any, method: str, n: int) -> None:
        self.inner, self.method, self.n = inner, method, n

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name != self.method:
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            if self.n == 0:
                raise KeyboardInterrupt("killed")
            self.n -= 1
            return attr(*args, **kwargs)
        return counted


def jitter(*key: object, lo: int = 1, hi: int = 240) -> int:
    """A deterministic number in [lo, hi) from `key`."""
    digest = hashlib.sha256(repr(key).encode()).digest()
    return lo + int.from_bytes(digest[:4], "big") % (hi - lo)


# -- CoinGecko -------------------------------------------------------------------------------------
H_MS = 3_600_000


def real_coins_list(ids: list[str]) -> list[dict[str, str]]:
    listed = json.loads(real("prices/crypto-cli_coingecko_coins_list_dict.json").read_text())
    extra = ["dyor-labs", "street-runner", "archway"]
    return [listed[i] for i in [*ids, *extra]]


def real_markets(ids: list[str]) -> list[dict[str, Any]]:
    rows = json.loads(real("prices/Cryptosphere_coingecko_coins_markets_wrapped.json").read_text())["data"]
    return [r for r in rows if r["id"] in ids]


def real_bitcoin_prices() -> list[float]:
    """The hourly bitcoin prices of a real CoinGecko chart (the fake's price shapes)."""
    return [p for _, p in json.loads(real("prices/Cryptosphere_coingecko_market_chart_bitcoin_hourly.json").read_text())["prices"]]


def chart_points(coin: str, lo_s: int, hi_s: int) -> list[int]:
    """Millisecond timestamps the fake serves for a coin in [lo_s, hi_s]: one per hour, seconds to minutes after it."""
    first_hour = (lo_s * 1000) // H_MS
    out = []
    for h in range(first_hour, (hi_s * 1000) // H_MS + 1):
        ts = h * H_MS + jitter(coin, h) * 1000
        if lo_s * 1000 <= ts <= hi_s * 1000 + 999:
            out.append(ts)
    return out


def coingecko_routes(api: FakeAPI, coins: list[str], key: str | None = None, key_header: str = "x-cg-demo-api-key") -> None:
    """`/api/v3/coins/list`, `/coins/markets` and `/coins/{id}/market_chart/range` with realistic bodies."""
    listed = real_coins_list(coins)
    markets = sorted(real_markets(coins), key=lambda r: r["market_cap_rank"])
    real_prices = real_bitcoin_prices()  # read here, in the test's thread: a missing file fails the test, not a request

    def guard(req: Request) -> Reply | None:
        if key is not None and req.headers.get(key_header) != key:
            message = f"API key missing or wrong: got {req.headers.get(key_header)}"
            return Reply(401, {"status": {"error_code": 10002, "error_message": message}})
        return None

    def coins_list(req: Request) -> Reply:
        return guard(req) or Reply(200, listed)

    def coins_markets(req: Request) -> Reply:
        rows = markets
        if "ids" in req.params:
            rows = [r for r in rows if r["id"] in req.params["ids"].split(",")]
        page, per_page = int(req.params.get("page", 1)), int(req.params.get("per_page", 100))
        return guard(req) or Reply(200, rows[(page - 1) * per_page : page * per_page])

    def market_chart(req: Request) -> Reply:
        coin = req.path.split("/")[-3]
        if coin not in coins:
            return Reply(404, {"error": "coin not found"})
        lo, hi = int(req.params["from"]), int(req.params["to"])
        if hi - lo > 90 * 86400:
            return Reply(400, {"error": "range too long for hourly data in this fake"})
        pts = chart_points(coin, lo, hi)
        scale = {"bitcoin": 1.0, "ethereum": 0.06, "solana": 0.004}.get(coin, 0.001)
        prices = [[ts, real_prices[(ts // H_MS) % len(real_prices)] * scale] for ts in pts]
        return guard(req) or Reply(200, {
            "prices": prices,
            "market_caps": [[ts, p * 19.5e6] for ts, p in prices],
            "total_volumes": [[ts, p * 3.1e5] for ts, p in prices],
        })

    api.route("GET", r"/api/v3/coins/list", coins_list)
    api.route("GET", r"/api/v3/coins/markets", coins_markets)
    api.route("GET", r"/api/v3/coins/[^/]+/market_chart/range", market_chart)


# -- X ---------------------------------------------------------------------------------------------
X_EPOCH_MS = 1288834974657  # Twitter's snowflake epoch


def real_tweet_texts() -> list[str]:
    with real("tweets/BAChallengeTeam3_Bitcoin_tweets.csv").open(newline="", encoding="utf-8") as f:
        return [row["text"] for row in csv.DictReader(f) if row["text"].strip()]


def make_tweets(query: str, start: dt.datetime, end: dt.datetime, every_minutes: int, salt: int) -> list[dict[str, Any]]:
    """Tweets from `start` to `end`, one about every `every_minutes`, with snowflake-like ids that grow with time."""
    texts = real_tweet_texts()
    out = []
    t = start
    i = 0
    while t < end:
        created = t + dt.timedelta(seconds=jitter(query, i, hi=every_minutes * 60))
        ms = int(created.timestamp() * 1000)
        out.append({
            "id": str(((ms - X_EPOCH_MS) << 22) + salt * 1000 + i % 1000),
            "text": texts[(i + salt) % len(texts)],
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "author_id": str(1000 + jitter(query, "a", i, hi=50)),
            "lang": "en",
            "public_metrics": {"retweet_count": i % 7, "reply_count": i % 3, "like_count": i % 11, "quote_count": 0},
        })
        t += dt.timedelta(minutes=every_minutes)
        i += 1
    return out


def x_routes(api: FakeAPI, corpus: dict[str, list[dict[str, Any]]], token: str, quota: dict[str, int] | None = None) -> None:
    """`/2/tweets/search/recent` over `corpus` (query → tweets), with X's paging, filters and quota headers.

    `quota` may hold `remaining` (requests left before the window resets) and `reset_in` (seconds).
    """
    quota = quota if quota is not None else {}

    def search(req: Request) -> Reply:
        if req.headers.get("authorization") != f"Bearer {token}":
            return Reply(401, {"title": "Unauthorized", "detail": "bad bearer token"})
        p = req.params
        tweets = corpus.get(p.get("query", ""), [])
        chosen = sorted(
            (t for t in tweets
             if (not p.get("since_id") or int(t["id"]) > int(p["since_id"]))
             and (not p.get("until_id") or int(t["id"]) < int(p["until_id"]))
             and (not p.get("start_time") or t["created_at"][:19] >= p["start_time"][:19])
             and (not p.get("end_time") or t["created_at"][:19] < p["end_time"][:19])),
            key=lambda t: -int(t["id"]),
        )
        offset = int(base64.b64decode(p["next_token"]).decode()) if p.get("next_token") else 0
        size = int(p.get("max_results", 10))
        data = chosen[offset : offset + size]
        meta: dict[str, Any] = {"result_count": len(data)}
        body: dict[str, Any] = {"meta": meta}
        if data:
            authors = sorted({t["author_id"] for t in data})
            body["data"] = data
            body["includes"] = {"users": [{"id": a, "username": f"trader{a}", "name": f"Trader {a}"} for a in authors]}
            meta.update(newest_id=data[0]["id"], oldest_id=data[-1]["id"])
        if offset + size < len(chosen):
            meta["next_token"] = base64.b64encode(str(offset + size).encode()).decode()
        remaining = quota.get("remaining", 449)
        quota["remaining"] = max(remaining - 1, 0)
        headers = {"x-rate-limit-limit": "450", "x-rate-limit-remaining": str(max(remaining - 1, 0)),
                   "x-rate-limit-reset": str(int(time.time()) + quota.get("reset_in", 900))}
        return Reply(200, body, headers)

    api.route("GET", r"/2/tweets/search/recent", search)


# -- Reddit ----------------------------------------------------------------------------------------
def real_reddit_titles() -> list[tuple[str, str]]:
    with real("reddit/CryptoCurrency-Volatility_reddit_data.csv").open(newline="", encoding="utf-8") as f:
        return [(row["title"], row["Description"] or "") for row in csv.DictReader(f) if row["title"].strip()]


def make_reddit_posts(sub: str, start: dt.datetime, end: dt.datetime, every_minutes: int) -> list[dict[str, Any]]:
    titles = real_reddit_titles()
    out = []
    t, i = start, 0
    while t < end:
        created = (t + dt.timedelta(seconds=jitter(sub, i, hi=every_minutes * 60))).timestamp()
        title, body = titles[i % len(titles)]
        out.append({"kind": "t3", "data": {
            "name": f"t3_{sub.lower()[:3]}{i:05d}", "id": f"{sub.lower()[:3]}{i:05d}", "title": title, "selftext": body[:500],
            "author": f"hodler{i % 17}", "author_fullname": f"t2_{i % 17:04d}", "created_utc": float(int(created)),
            "score": i % 50, "num_comments": i % 9, "subreddit": sub,
        }})
        t += dt.timedelta(minutes=every_minutes)
        i += 1
    return out


def reddit_routes(api: FakeAPI, corpus: dict[str, list[dict[str, Any]]], client_id: str, secret: str,
                  token: str = "tok-SECRET-abc", quota: dict[str, int] | None = None) -> dict[str, str]:
    """`POST /api/v1/access_token` (client credentials) and `GET /r/{sub}/new` over `corpus` (sub → posts).

    Returns the live token state: set `state["token"]` to a new value to make the current token expire.
    """
    state = {"token": token, "issued": 0}
    quota = quota if quota is not None else {}

    def access_token(req: Request) -> Reply:
        expected = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        if req.headers.get("authorization") != expected or req.params.get("grant_type") != "client_credentials":
            return Reply(401, {"message": "Unauthorized", "error": 401})
        state["issued"] += 1
        return Reply(200, {"access_token": state["token"], "token_type": "bearer", "expires_in": 86400, "scope": "*"})

    def new(req: Request) -> Reply:
        if not req.headers.get("user-agent", "").strip():
            return Reply(429, {"message": "Too Many Requests", "error": 429})
        if req.headers.get("authorization") != f"bearer {state['token']}":
            return Reply(401, {"message": "Unauthorized", "error": 401})
        sub = req.path.split("/")[2]
        posts = sorted(corpus.get(sub, []), key=lambda c: -c["data"]["created_utc"])
        names = [c["data"]["name"] for c in posts]
        after = req.params.get("after")
        offset = names.index(after) + 1 if after in names else 0
        limit = int(req.params.get("limit", 25))
        children = posts[offset : offset + limit]
        more = offset + limit < len(posts)
        remaining = quota.get("remaining", 99)
        quota["remaining"] = max(remaining - 1, 0)
        headers = {"x-ratelimit-used": str(100 - remaining), "x-ratelimit-remaining": f"{max(remaining - 1, 0):.1f}",
                   "x-ratelimit-reset": str(quota.get("reset_in", 60))}
        return Reply(200, {"kind": "Listing", "data": {"after": children[-1]["data"]["name"] if more and children else None,
                                                       "dist": len(children), "children": children, "before": None}}, headers)

    api.route("POST", r"/api/v1/access_token", access_token)
    api.route("GET", r"/r/[^/]+/new", new)
    return state
