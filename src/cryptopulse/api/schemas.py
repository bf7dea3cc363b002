"""The rows each endpoint returns, as pydantic models: they document the OpenAPI schema the tests check answers against."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field, create_model


class Coin(BaseModel):
    coin_id: str
    symbol: str
    name: str | None
    market_cap_rank: int | None


class Table(BaseModel):
    name: str
    rows: int
    files: int


class MarketHour(BaseModel):
    ts_hour: dt.datetime
    price_usd: float | None
    market_cap_usd: float | None
    volume_usd: float | None


class MarketDay(BaseModel):
    date: dt.date
    open_usd: float | None
    high_usd: float | None
    low_usd: float | None
    close_usd: float | None
    market_cap_usd: float | None
    volume_usd: float | None
    hours: int


class MarketMonth(BaseModel):
    symbol: str | None
    coin_id: str
    month: dt.date
    min_price_usd: float | None
    max_price_usd: float | None
    min_market_cap_usd: float | None
    max_market_cap_usd: float | None
    min_volume_usd: float | None
    max_volume_usd: float | None
    first_price_usd: float | None
    last_price_usd: float | None
    hours: int | None
    first_hour: dt.datetime | None
    last_hour: dt.datetime | None


class SocialPeriod(BaseModel):
    period: dt.datetime = Field(description="Start of the UTC hour or day.")
    posts: int | None = Field(description="Posts naming the coin, bots and spam left out.")
    flagged_posts: int | None
    scored_posts: int | None
    unique_authors: int | None
    social_dominance: float | None = Field(description="Share of the period's posts naming any tracked coin.")
    sentiment_mean: float | None = Field(description="Mean VADER compound score, -1…1.")
    sentiment_weighted: float | None = Field(description="Engagement-weighted mean (hours only).")
    share_bullish: float | None
    share_bearish: float | None
    sentiment_z: float | None = Field(description="Against the coin's trailing 20 days (days only).")
    posts_z: float | None = Field(description="Against the coin's trailing 20 days (days only).")


class Dominance(BaseModel):
    coin_id: str
    symbol: str | None
    posts: int | None
    social_dominance: float | None
    sentiment_mean: float | None


class LeadLagTest(BaseModel):
    series: str
    test: str
    lag: int | None
    statistic: float | None
    n: int | None
    p_value: float | None
    p_adjusted: float | None
    significant: bool | None
    max_lag: int | None
    alpha: float | None
    shuffle_seed: int | None


class Post(BaseModel):
    created_at: dt.datetime
    source: str
    author: str | None
    text: str | None
    compound: float | None
    is_flagged: bool | None
    is_copy_storm: bool | None
    is_high_rate: bool | None
    is_spam_pattern: bool | None
    like_count: int | None
    retweet_count: int | None
    channel: str | None
    post_id: str


class Run(BaseModel):
    run_id: str
    status: str | None
    started_at: str | None
    finished_at: str | None
    interval_start: str | None
    interval_end: str | None
    seconds: float | None
    published_version: str | None
    error: str | None


class QualityCheck(BaseModel):
    run_id: str
    checked_at: dt.datetime | None
    interval_start: dt.date | None
    interval_end: dt.date | None
    model: str
    check_name: str
    passed: bool
    failing_rows: int | None
    example: str | None


class Freshness(BaseModel):
    dataset: str
    source: str | None
    newest: dt.datetime | None
    rows: int
    hours_behind_interval: float | None = Field(description="Hours from the newest record to the end of the last published interval.")
    stale: bool | None = Field(description="More than CRYPTOPULSE_FRESHNESS_HOURS behind the interval end.")


class Health(BaseModel):
    status: str
    version: str | None


def rows_of(row: type[BaseModel], paged: bool = False) -> type[BaseModel]:
    """The JSON envelope of a list of `row`: the published version, the count, the rows (and the next page's cursor)."""
    fields: dict[str, object] = {
        "version": (str, Field(description="The published version every row comes from.")),
        "count": (int, ...),
        "rows": (list[row], ...),
    }
    if paged:
        fields["next_cursor"] = (str | None, Field(description="Pass as ?cursor= for the next page; null on the last page."))
    return create_model(f"{row.__name__}Rows", **fields)
