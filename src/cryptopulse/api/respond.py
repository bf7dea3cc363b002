"""Answer one request from one leased snapshot: conditional GET, the queries under a deadline, the body in the asked format."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa
from fastapi import Request, Response

from cryptopulse.api.errors import ApiError
from cryptopulse.api.formats import MEDIA_TYPES, Format, negotiate, render
from cryptopulse.read import Snapshot

HINTS = {"analysis_lead_lag": "cryptopulse analyze", "fct_post_sentiment": "cryptopulse enrich"}


@dataclass
class Answer:
    """What a handler's query produced: rows, and extra fields for the JSON envelope (e.g. the next cursor)."""

    rows: pa.Table
    extra: dict[str, object] = field(default_factory=dict)


Produce = Callable[[duckdb.DuckDBPyConnection, Snapshot], Answer]


def respond(request: Request, fmt: Format | None, needs: tuple[str, ...], produce: Produce, etag_from_body: bool = False) -> Response:
    """Run `produce` on one snapshot's cursor and render its rows; 304 when the client holds this version's answer.

    The ETag names the version and the request, so a client's cached answer stays valid until the next publish
    and a match is answered without running a query. Answers that do not come from the published version
    (the run log) take their ETag from the body instead.
    """
    api = request.app.state.api
    chosen = negotiate(fmt, request.headers.get("accept"))
    with api.versions.lease() as snapshot:
        headers = {"X-Published-Version": snapshot.version, "Vary": "Accept"}
        if not etag_from_body:
            headers["ETag"] = _etag(snapshot.version, f"{request.url.path}?{request.url.query}#{chosen}")
            if _matches(request, headers["ETag"]):
                return Response(status_code=304, headers=headers)
        _require(snapshot, needs)
        cursor = snapshot.cursor()
        try:
            with deadline(cursor, api.settings.query_timeout):
                answer = produce(cursor, snapshot)
        except duckdb.IOException as e:  # a file of this version vanished: an operator removed it too early
            raise ApiError(503, "the published files changed while being read: retry", headers={"Retry-After": "1"}) from e
        finally:
            cursor.close()
    body = render(answer.rows, chosen, {"version": headers["X-Published-Version"], **answer.extra})
    if etag_from_body:
        headers["ETag"] = _etag(headers["X-Published-Version"], body)
        if _matches(request, headers["ETag"]):
            return Response(status_code=304, headers=headers)
    return Response(body, media_type=MEDIA_TYPES[chosen], headers=headers)


@contextmanager
def deadline(cursor: duckdb.DuckDBPyConnection, seconds: float) -> Iterator[None]:
    """Interrupt the cursor's query if the block lasts longer than `seconds` (it then raises InterruptException)."""
    timer = threading.Timer(seconds, cursor.interrupt)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def _require(snapshot: Snapshot, needs: tuple[str, ...]) -> None:
    for table in needs:
        if table not in snapshot.tables:
            hint = HINTS.get(table, "cryptopulse run")
            raise ApiError(404, f"table {table} is not published yet (version {snapshot.version}; run `{hint}`)")


def _etag(version: str, what: str | bytes) -> str:
    digest = hashlib.sha256(what if isinstance(what, bytes) else what.encode()).hexdigest()[:20]
    return f'"{version}-{digest}"'


def _matches(request: Request, etag: str) -> bool:
    held = request.headers.get("if-none-match")
    if not held:
        return False
    tags = {t.strip().removeprefix("W/") for t in held.split(",")}
    return "*" in tags or etag in tags
