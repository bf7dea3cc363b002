"""The `/v1` endpoints: each validates its parameters, names the tables it needs, and runs shared queries on one snapshot."""

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, Literal, TypeVar

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel

from cryptopulse.api import schemas
from cryptopulse.api.errors import ApiError, ErrorBody
from cryptopulse.api.formats import MEDIA_TYPES, Format
from cryptopulse.api.paging import POST_TABLES, day_files, posts_page
from cryptopulse.api.respond import Answer, respond
from cryptopulse.lake.runlog import recent_runs
from cryptopulse.read import Snapshot, queries

CoinId = Annotated[str, Path(max_length=200, description="CoinGecko coin id (see /v1/coins).", examples=["bitcoin"])]
Start = Annotated[dt.date, Query(description="First day (YYYY-MM-DD, UTC), inclusive.", examples=["2024-05-20"])]
End = Annotated[dt.date, Query(description="Day after the last (YYYY-MM-DD, UTC), exclusive.", examples=["2024-05-22"])]
FormatQ = Annotated[Format | None, Query(alias="format", description="json (default), csv or parquet; overrides Accept.")]
ERRORS = {code: {"model": ErrorBody} for code in (401, 404, 422, 429, 503)}
NOT_MODIFIED = {304: {"description": "Not modified: the client's copy (If-None-Match) is of this published version."}}
TABULAR = {MEDIA_TYPES[Format.csv]: {}, MEDIA_TYPES[Format.parquet]: {}}
PUBLISHED_TABLES = ("fct_coin_hourly", "fct_post")
F = TypeVar("F", bound=Callable[..., Any])


def table_route(router: APIRouter, path: str, row: type[BaseModel], summary: str, paged: bool = False) -> Callable[[F], F]:
    """Register a GET route answering rows of `row` (JSON envelope, CSV or Parquet), documented with its errors."""
    return router.get(
        path,
        summary=summary,
        response_model=schemas.rows_of(row, paged),
        responses={**ERRORS, **NOT_MODIFIED, 200: {"content": TABULAR}},
    )


def day_range(start: dt.date, end: dt.date, max_days: int | None) -> None:
    """422 naming `end` unless start < end and the range is at most `max_days` days."""
    if end <= start:
        raise ApiError(422, f"query parameter 'end': must be after start ({start.isoformat()})", "end")
    if max_days is not None and (end - start).days > max_days:
        raise ApiError(422, f"query parameter 'end': the range is {(end - start).days} days; at most {max_days} per request", "end")


def known_coin(cur: duckdb.DuckDBPyConnection, coin_id: str) -> None:
    if queries.coin(cur, coin_id).num_rows == 0:
        raise ApiError(404, f"unknown coin_id {coin_id!r} (see /v1/coins)", "coin_id")


def coin_days(
    request: Request, coin_id: str, start: dt.date, end: dt.date, fmt: Format | None,
    query: Callable[[duckdb.DuckDBPyConnection, str, dt.date, dt.date], pa.Table], tables: tuple[str, ...],
) -> Response:
    """A known coin's rows of the days [start, end) from `query`, which reads `tables`."""
    day_range(start, end, limits(request))

    def produce(cur: duckdb.DuckDBPyConnection, _: Snapshot) -> Answer:
        known_coin(cur, coin_id)
        return Answer(query(cur, coin_id, start, end))
    return respond(request, fmt, ("dim_coin", *tables), produce)


def limits(request: Request) -> int:
    return request.app.state.api.settings.max_range_days


def build_router(max_page_size: int) -> APIRouter:
    """The `/v1` routes; `max_page_size` bounds ?limit= in the schema and in validation."""
    router = APIRouter(prefix="/v1")

    @table_route(router, "/version", schemas.Table, "The published version answering requests now, and its tables")
    def version(request: Request, fmt: FormatQ = None) -> Response:
        def produce(_: duckdb.DuckDBPyConnection, snap: Snapshot) -> Answer:
            tables = sorted(snap.tables.values(), key=lambda t: t.name)
            return Answer(pa.table({"name": [t.name for t in tables], "rows": [t.rows for t in tables],
                                    "files": [len(t.files) for t in tables]}),
                          {"run_id": snap.run_id, "published_at": snap.published_at})
        return respond(request, fmt, (), produce)

    @table_route(router, "/coins", schemas.Coin, "The tracked coins, largest market cap first")
    def coins(request: Request, fmt: FormatQ = None) -> Response:
        return respond(request, fmt, ("dim_coin",), lambda cur, _: Answer(queries.coins(cur)))

    @table_route(router, "/coins/{coin_id}/market/hourly", schemas.MarketHour, "A coin's price, market cap and volume per UTC hour")
    def market_hourly(request: Request, coin_id: CoinId, start: Start, end: End, fmt: FormatQ = None) -> Response:
        return coin_days(request, coin_id, start, end, fmt, queries.market_hourly, ("fct_coin_hourly",))

    @table_route(router, "/coins/{coin_id}/market/daily", schemas.MarketDay, "A coin's daily open/high/low/close, market cap and volume")
    def market_daily(request: Request, coin_id: CoinId, start: Start, end: End, fmt: FormatQ = None) -> Response:
        return coin_days(request, coin_id, start, end, fmt, queries.market_daily, ("fct_coin_hourly",))

    @table_route(router, "/market/monthly", schemas.MarketMonth,
                 "The monthly aggregate: min/max price, market cap and volume per coin and month")
    def market_monthly(
        request: Request, start: Start, end: End, fmt: FormatQ = None,
        coin_id: Annotated[list[str] | None, Query(max_length=100, description="Coin ids (repeatable); default: all tracked.")] = None,
    ) -> Response:
        day_range(start, end, None)

        def produce(cur: duckdb.DuckDBPyConnection, _: Snapshot) -> Answer:
            for coin in coin_id or ():
                known_coin(cur, coin)
            wanted = coin_id or queries.coins(cur).column("coin_id").to_pylist()
            return Answer(queries.monthly_stats(cur, wanted, start, end))
        return respond(request, fmt, ("dim_coin", "agg_coin_monthly"), produce)

    @table_route(router, "/coins/{coin_id}/social", schemas.SocialPeriod,
                 "A coin's social volume and sentiment per hour or day (bots and spam left out), as the sentiment marts hold them")
    def social(
        request: Request, coin_id: CoinId, start: Start, end: End, fmt: FormatQ = None,
        grain: Annotated[Literal["hour", "day"], Query(description="hour or day (UTC).")] = "day",
    ) -> Response:
        mart = "mart_coin_daily" if grain == "day" else "mart_coin_hourly"
        return coin_days(request, coin_id, start, end, fmt, partial(queries.coin_sentiment, grain=grain), (mart,))

    @table_route(router, "/social/dominance", schemas.Dominance, "Each tracked coin's share of one day's posts (social dominance)")
    def dominance(request: Request, day: Annotated[dt.date, Query(description="The UTC day (YYYY-MM-DD).", examples=["2024-05-20"])],
                  fmt: FormatQ = None) -> Response:
        return respond(request, fmt, ("dim_coin", "mart_coin_daily"), lambda cur, _: Answer(queries.social_dominance(cur, day)))

    def analysis(request: Request, coin_id: str, fmt: Format | None, granger: bool) -> Response:
        def produce(cur: duckdb.DuckDBPyConnection, _: Snapshot) -> Answer:
            known_coin(cur, coin_id)
            rows = queries.lead_lag(cur, coin_id)
            is_granger = pc.starts_with(rows.column("test"), "granger")
            return Answer(rows.filter(is_granger if granger else pc.invert(is_granger)))
        return respond(request, fmt, ("dim_coin", "analysis_lead_lag"), produce)

    @table_route(router, "/coins/{coin_id}/lead-lag", schemas.LeadLagTest,
                 "Cross-correlation of sentiment and post volume with returns at every lag, with Holm-corrected p-values")
    def lead_lag(request: Request, coin_id: CoinId, fmt: FormatQ = None) -> Response:
        return analysis(request, coin_id, fmt, granger=False)

    @table_route(router, "/coins/{coin_id}/granger", schemas.LeadLagTest, "Granger tests both ways, with Holm-corrected p-values")
    def granger(request: Request, coin_id: CoinId, fmt: FormatQ = None) -> Response:
        return analysis(request, coin_id, fmt, granger=True)

    @table_route(router, "/coins/{coin_id}/posts", schemas.Post,
                 "Posts naming a coin, oldest first, with sentiment and bot/spam flags", paged=True)
    def posts(
        request: Request, coin_id: CoinId, start: Start, end: End, fmt: FormatQ = None,
        limit: Annotated[int, Query(ge=1, le=max_page_size, description="Posts per page.")] = 100,
        cursor: Annotated[str | None, Query(max_length=1000, description="The next_cursor of the previous page.")] = None,
    ) -> Response:
        day_range(start, end, limits(request))

        def produce(cur: duckdb.DuckDBPyConnection, snap: Snapshot) -> Answer:
            known_coin(cur, coin_id)
            files = {t: day_files(request.app.state.api.versions, snap, t, start, end) for t in POST_TABLES}
            rows, next_cursor = posts_page(cur, coin_id, start, end, limit, cursor, files)
            return Answer(rows, {"next_cursor": next_cursor})
        return respond(request, fmt, ("dim_coin", *POST_TABLES), produce)

    @table_route(router, "/runs", schemas.Run, "The latest pipeline runs, newest first, whatever their outcome (from the run log)")
    def runs(request: Request, fmt: FormatQ = None, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> Response:
        lake = request.app.state.api.versions.lake
        names = list(schemas.Run.model_fields)
        records = [{k: None if r.get(k) is None else str(r[k]) for k in names} | {"seconds": r.get("seconds")}
                   for r in recent_runs(lake, limit)]
        schema = pa.schema([(k, pa.float64() if k == "seconds" else pa.string()) for k in names])
        return respond(request, fmt, (), lambda *_: Answer(pa.Table.from_pylist(records, schema)), etag_from_body=True)

    @table_route(router, "/quality", schemas.QualityCheck, "The quality checks of one run (default: the latest), failing first")
    def quality(request: Request, fmt: FormatQ = None, run_id: Annotated[str | None, Query(max_length=100)] = None) -> Response:
        return respond(request, fmt, ("quality_results",), lambda cur, _: Answer(queries.quality_checks(cur, run_id)))

    @table_route(router, "/freshness", schemas.Freshness, "Per dataset and source: the newest published record and how far behind it is")
    def freshness(request: Request, fmt: FormatQ = None) -> Response:
        allowed = request.app.state.api.freshness_hours

        def produce(cur: duckdb.DuckDBPyConnection, snap: Snapshot) -> Answer:
            rows = queries.freshness(cur)
            end = dt.datetime.fromisoformat(snap.interval[1]) if snap.interval else None
            behind = [None if end is None or t is None else (end - t).total_seconds() / 3600 for t in rows.column("newest").to_pylist()]
            stale = [None if b is None else b > allowed for b in behind]
            return Answer(rows.append_column("hours_behind_interval", pa.array(behind, pa.float64()))
                          .append_column("stale", pa.array(stale, pa.bool_())))
        return respond(request, fmt, PUBLISHED_TABLES, produce)

    return router
