"""CoinGecko clients: the live HTTP client and a replay client over recorded payloads, with one interface."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import re
from pathlib import Path
from typing import Any

import httpx

from cryptopulse.sources.coingecko import settings as s
from cryptopulse.sources.http import ApiClient, Fetched, SourceError
from cryptopulse.sources.landing import strip_request

PLAN_ERROR_CODES = {10005, 10006, 10010, 10011, 10012}  # CoinGecko's "needs a paid plan" / "time range" codes


class CoinGeckoClient(ApiClient):
    """Live `/coins/list`, `/coins/markets` and `/coins/{id}/market_chart/range`.

    The key is `pro_key` or `demo_key` when given (e.g. from an Airflow connection), else from the environment:
    `COINGECKO_PRO_API_KEY` (pro host) or `COINGECKO_DEMO_API_KEY` (public host); without either the keyless
    public API is used. `plan` is "pro", "demo" or "public".
    """

    source = s.SOURCE

    def __init__(self, base_url: str | None = None, calls_per_minute: float = s.CALLS_PER_MINUTE,
                 pro_key: str | None = None, demo_key: str | None = None, **options: Any) -> None:
        if pro_key or demo_key:
            pro, demo = pro_key or "", demo_key or ""
        else:
            pro, demo = os.environ.get(s.PRO_KEY_ENV, ""), os.environ.get(s.DEMO_KEY_ENV, "")
        if pro:
            self.plan, host, secret = "pro", s.PRO_BASE_URL, {s.PRO_KEY_HEADER: pro}
        elif demo:
            self.plan, host, secret = "demo", s.PUBLIC_BASE_URL, {s.DEMO_KEY_HEADER: demo}
        else:
            self.plan, host, secret = "public", s.PUBLIC_BASE_URL, {}
        options.setdefault("timeout", s.TIMEOUT_S)
        super().__init__(
            base_url or os.environ.get(s.BASE_URL_ENV) or host,
            headers={"accept": "application/json"},
            secret_headers=secret,
            secret_params=("x_cg_demo_api_key", "x_cg_pro_api_key"),
            calls_per_minute=calls_per_minute,
            **options,
        )

    def coins_list(self) -> Fetched:
        return self.get_json("/coins/list")

    def coins_markets(self, page: int, per_page: int, ids: list[str] | None = None) -> Fetched:
        params = {"vs_currency": s.VS_CURRENCY, "order": "market_cap_desc", "per_page": per_page, "page": page}
        if ids:
            params["ids"] = ",".join(ids)
        return self.get_json("/coins/markets", params)

    def market_chart_range(self, coin_id: str, start: dt.datetime, end: dt.datetime) -> Fetched:
        params = {"vs_currency": s.VS_CURRENCY, "from": int(start.timestamp()), "to": int(end.timestamp())}
        return self.get_json(f"/coins/{coin_id}/market_chart/range", params)

    def classify(self, response: httpx.Response, method: str, path: str) -> SourceError | None:
        """401/403, and a 429 that names a plan limit rather than a rate, are plan errors: retrying cannot help."""
        status = response.status_code
        if status in (401, 403) or (status == 429 and _names_plan(response)):
            return SourceError(f"coingecko: {method} {path} refused (HTTP {status}, {self.plan} plan). {s.PLAN_HINT}")
        return None


def _names_plan(response: httpx.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    error = body.get("status", body.get("error", {})) if isinstance(body, dict) else {}
    if isinstance(error, dict) and error.get("error_code") in PLAN_ERROR_CODES:
        return True
    return re.search(r"\b(plan|upgrade)\b", json.dumps(body).lower()) is not None


class ReplayClient:
    """Serves recorded CoinGecko payloads from a folder laid out like the raw zone's `coingecko/` folder.

    `folder` holds `coins_list.json`, `coins_markets.json` and `market_chart/month=YYYY-MM/<coin_id>.json[.gz]`
    (a lake's `raw/coingecko/coingecko`, or fixtures). A chart asked for a month that was not recorded is empty.
    """

    source = s.SOURCE
    plan = "replay"

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.retries = 0
        self.requests = 0

    def coins_list(self) -> Fetched:
        return self._fetched("/coins/list", {}, as_list(self._read("coins_list.json")))

    def coins_markets(self, page: int, per_page: int, ids: list[str] | None = None) -> Fetched:
        rows = as_list(self._read("coins_markets.json"))
        if ids:
            rows = [r for r in rows if r.get("id") in ids]
        params = {"vs_currency": s.VS_CURRENCY, "per_page": per_page, "page": page}
        return self._fetched("/coins/markets", params, rows[(page - 1) * per_page : page * per_page])

    def market_chart_range(self, coin_id: str, start: dt.datetime, end: dt.datetime) -> Fetched:
        lo, hi = int(start.timestamp()) * 1000, int(end.timestamp()) * 1000 + 999
        found = [p for p in (self.folder / f"market_chart/month={start:%Y-%m}").glob(f"{coin_id}.json*") if p.is_file()]
        chart = strip_request(self._read(str(found[0].relative_to(self.folder)))) if found else {}
        # A recorded point without a numeric timestamp (a malformed record) lies in no range: it is not served.
        body = {k: [pt for pt in chart.get(k, []) if _in_range(pt, lo, hi)] for k in ("prices", "market_caps", "total_volumes")}
        params = {"vs_currency": s.VS_CURRENCY, "from": lo // 1000, "to": hi // 1000}
        return self._fetched(f"/coins/{coin_id}/market_chart/range", params, body)

    def close(self) -> None:
        pass

    def _read(self, name: str) -> Any:
        path = self.folder / name
        if not path.exists():
            raise SourceError(f"coingecko replay: {path} not found")
        data = path.read_bytes()
        return json.loads(gzip.decompress(data) if name.endswith(".gz") else data)

    def _fetched(self, path: str, params: dict[str, Any], body: Any) -> Fetched:
        self.requests += 1
        return Fetched(body, 200, httpx.Headers(), path, params, dt.datetime.now(dt.UTC), "coingecko-replay")


def _in_range(point: Any, lo: int, hi: int) -> bool:
    stamp = point[0] if isinstance(point, list) and point else None
    return isinstance(stamp, int | float) and not isinstance(stamp, bool) and lo <= stamp <= hi


def as_list(body: Any) -> list[dict[str, Any]]:
    """A list of coin objects from a body that may be the API's array, `{"data": [...]}`, or a dict keyed by id."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return body["data"]
    if isinstance(body, dict):
        return [v for _, v in sorted(body.items()) if isinstance(v, dict)]
    raise SourceError(f"coingecko: expected a list of coins, got {type(body).__name__}")
