"""The benchmark's pandas baseline: the same ELT as `cryptopulse run` (stage → models → publish), written in plain pandas.

Raw zone → staged (per-day Parquet posts and CSV coin stats, with the same quarantine reasons, dedup
rules and per-day `_quarantine.parquet` / `_stats.json` side files) → dims → facts (with the post↔coin
bridge) → monthly aggregate → published Parquet (one file per day for facts, one file for the others).
It mirrors `cryptopulse.staging` and `cryptopulse/models/sql/*.sql` rule for rule, but runs no quality
gates; `bench/elt.py` compares its step times and row counts with DuckDB's.

Raw JSON is parsed with the `json` module and turned into DataFrames column by column; everything
after that is vectorised pandas. Nothing is read from or written to the lake: output goes to `out_dir`.

    python bench/pandas_baseline.py --lake PATH --out DIR
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import re
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SEEDS = Path(__file__).resolve().parent.parent / "src" / "cryptopulse" / "models" / "seeds"
# Unix milliseconds between 2009-01-03 and 2100-01-01 (as in cryptopulse.staging.prices).
MIN_MS, MAX_MS = 1230940800000, 4102444800000
TOKEN_SPLIT = r"[^a-z0-9$#]+"
ARRAYS = ("prices", "market_caps", "total_volumes")
PARTITION_RE = re.compile(r"(?:date=(\d{4}-\d{2}-\d{2})|month=(\d{4}-\d{2}))")
# Errors that make a raw file unreadable as a whole (quarantined as `unreadable_file`, like DuckDB's read errors).
READ_ERRORS = (OSError, EOFError, ValueError, zlib.error, AttributeError, TypeError)

POST_COLUMNS = [
    "post_id", "source", "created_at", "author_id", "author", "text", "lang", "like_count", "retweet_count",
    "reply_count", "quote_count", "score", "num_comments", "channel", "date",
]
PRICE_COLUMNS = ["coin_id", "ts_hour", "ts_ms", "price_usd", "market_cap_usd", "volume_usd", "source", "raw_file", "date"]
COUNT_COLUMNS = ["like_count", "retweet_count", "reply_count", "quote_count", "score", "num_comments"]
QUARANTINE_COLUMNS = ["dataset", "date", "source", "raw_file", "reason", "record"]
# Published tables: sort key (the model's unique key) and whether they are published one file per day.
PUBLISHED = {
    "dim_coin_alias": (["alias"], False),
    "dim_time": (["time_key"], False),
    "dim_coin": (["coin_id"], False),
    "fct_coin_hourly": (["coin_id", "time_key"], True),
    "fct_post": (["source", "post_id"], True),
    "bridge_post_coin": (["source", "post_id", "coin_id"], True),
    "agg_coin_monthly": (["coin_id", "month"], False),
}
DATE_COLUMNS = ("date", "month_start", "month")


def run_pandas(lake_root: str, out_dir: str) -> dict[str, object]:
    """Raw zone → staged → dims → facts → aggregate → Parquet files, all in pandas.

    Returns {"steps_s": {step: seconds}, "rows": {table: n}}; `rows` also holds the quarantined records.
    """
    lake, out = Path(lake_root), Path(out_dir)
    staged_root, published = out / "staged", out / "published"
    steps: dict[str, float] = {}

    started = time.perf_counter()
    days, quarantined = stage(lake, staged_root)
    steps["stage"] = time.perf_counter() - started

    # The build reads the staged zone back, as the warehouse build does.
    started = time.perf_counter()
    coins = pd.read_parquet(staged_root / "coins" / "part-0.parquet")
    dim_coin_alias = build_dim_coin_alias(coins, pd.read_csv(SEEDS / "ambiguous_words.csv", dtype=str))
    dim_time = build_dim_time(days[0], days[-1] + dt.timedelta(days=1))
    dim_coin = build_dim_coin(coins, dim_coin_alias)
    steps["dims"] = time.perf_counter() - started

    started = time.perf_counter()
    start, end = pd.Timestamp(days[0]), pd.Timestamp(days[-1] + dt.timedelta(days=1))
    fct_coin_hourly = build_fct_coin_hourly(read_staged_prices(staged_root, days), dim_time, start, end)
    fct_post = build_fct_post(read_staged_posts(staged_root, days), dim_time, start, end)
    bridge_post_coin = build_bridge_post_coin(fct_post, dim_coin_alias)
    steps["facts"] = time.perf_counter() - started

    started = time.perf_counter()
    agg_coin_monthly = build_agg_coin_monthly(fct_coin_hourly)
    steps["aggregate"] = time.perf_counter() - started

    tables = {
        "dim_coin_alias": dim_coin_alias, "dim_time": dim_time, "dim_coin": dim_coin,
        "fct_coin_hourly": fct_coin_hourly, "fct_post": fct_post, "bridge_post_coin": bridge_post_coin,
        "agg_coin_monthly": agg_coin_monthly,
    }
    started = time.perf_counter()
    publish(tables, published)
    steps["publish"] = time.perf_counter() - started

    rows: dict[str, int] = {name: len(frame) for name, frame in tables.items()}
    rows["quarantine"] = quarantined
    return {"steps_s": steps, "rows": rows}


# -- stage -----------------------------------------------------------------------------------------
def stage(lake: Path, staged_root: Path) -> tuple[list[dt.date], int]:
    """Stage coins, prices and posts; return the covered days (first to last record) and records quarantined."""
    coins = stage_coins(lake)
    coins_out = staged_root / "coins"
    coins_out.mkdir(parents=True, exist_ok=True)
    coins.sort_values("coin_id").to_parquet(coins_out / "part-0.parquet", index=False)

    prices = classify_prices(read_price_points(lake), set(coins["coin_id"]))
    posts = classify_posts(*read_posts(lake))
    all_dates = pd.concat([prices.records["date"], posts.records["date"]]).dropna()
    if all_dates.empty:
        raise SystemExit(f"no raw records found in {lake / 'raw'}")
    first, last = all_dates.min().date(), all_dates.max().date()
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]

    for name, ds, fmt in (("coin_hourly", prices, "csv"), ("posts", posts, "parquet")):
        write_staged(ds, staged_root / name, name, days, fmt)
    return days, len(prices.quarantine) + len(posts.quarantine)


def stage_coins(lake: Path) -> pd.DataFrame:
    """One row per coin id over every source's coins list; tracked = has a /coins/markets row."""
    listed = []
    for path in sorted(lake.glob("raw/*/coingecko/coins_list.json")):
        frame = pd.DataFrame(json.loads(path.read_text()), columns=["id", "symbol", "name"], dtype=object)
        listed.append(frame.assign(source=source_of(relative(lake, path))))
    markets = [
        pd.DataFrame(json.loads(p.read_text()), columns=["id", "market_cap_rank"])
        for p in sorted(lake.glob("raw/*/coingecko/coins_markets.json"))
    ]
    coins = pd.concat(listed, ignore_index=True) if listed else pd.DataFrame(columns=["id", "symbol", "name", "source"])
    coins = coins[coins["id"].notna() & (coins["id"].astype(str).str.strip(" ") != "")]
    ranks = (
        pd.concat(markets, ignore_index=True).groupby("id")["market_cap_rank"].min()
        if markets
        else pd.Series(dtype="Int64")
    )
    staged = coins.groupby("id").agg(symbol=("symbol", "min"), name=("name", "min"), source=("source", "min"))
    staged["symbol"] = staged["symbol"].str.lower()
    staged["market_cap_rank"] = staged.index.map(ranks).astype("Int64")
    staged["is_tracked"] = staged.index.isin(ranks.index)
    staged = staged.rename_axis("coin_id").reset_index()
    return staged[["coin_id", "symbol", "name", "market_cap_rank", "is_tracked", "source"]]


@dataclass
class Classified:
    """One staged dataset: every record with its `reason` (None = good), the staged rows, the quarantine, the duplicates' days."""

    records: pd.DataFrame
    staged: pd.DataFrame
    quarantine: pd.DataFrame
    duplicate_dates: pd.Series


def read_price_points(lake: Path) -> pd.DataFrame:
    """One row per market_chart point (the three arrays zipped by position), values kept as parsed JSON."""
    cols: dict[str, list] = {k: [] for k in ("raw_file", "pos", "ts", "price", "cap_ts", "market_cap", "vol_ts", "volume")}
    unreadable = []
    for path in sorted(lake.glob("raw/*/coingecko/market_chart/month=*/*.json.gz")):
        raw_file = relative(lake, path)
        try:
            body = json.loads(gzip.decompress(path.read_bytes()))
            arrays = [body.get(k) or [] for k in ARRAYS]
        except READ_ERRORS as e:
            unreadable.append((raw_file, str(e).splitlines()[0][:300] if str(e) else type(e).__name__))
            continue
        n = max(len(a) for a in arrays)
        cols["raw_file"].extend([raw_file] * n)
        cols["pos"].extend(range(1, n + 1))
        for (ts_key, value_key), array in zip((("ts", "price"), ("cap_ts", "market_cap"), ("vol_ts", "volume")), arrays):
            padded = array + [None] * (n - len(array))
            cols[ts_key].extend([_at(p, 0) for p in padded])
            cols[value_key].extend([_at(p, 1) for p in padded])
    points = pd.DataFrame(cols)
    points["coin_id"] = points["raw_file"].str.extract(r"/([^/]+)\.json(?:\.gz)?$", expand=False)
    points["reason"] = None
    if unreadable:
        bad = pd.DataFrame(unreadable, columns=["raw_file", "record"]).assign(reason="unreadable_file", pos=pd.NA)
        points = pd.concat([points, bad], ignore_index=True)
    return points


def _at(pair: object, i: int) -> object:
    return pair[i] if isinstance(pair, list) and len(pair) > i else None


def classify_prices(points: pd.DataFrame, known_coins: set[str]) -> Classified:
    """Type the points, give each its quarantine reason, and keep the last good point of each coin-hour."""
    unreadable = points["reason"].notna()
    ts_num = pd.to_numeric(points["ts"], errors="coerce")
    ts_ms = ts_num.round().where(ts_num.between(MIN_MS, MAX_MS))
    points["ts_ms"] = pd.to_numeric(ts_num.round(), errors="coerce").astype("Int64")
    ts = pd.to_datetime(ts_ms, unit="ms")
    points["ts_hour"] = ts.dt.floor("h")
    for text, column in (("price", "price_usd"), ("market_cap", "market_cap_usd"), ("volume", "volume_usd")):
        points[column] = pd.to_numeric(points[text], errors="coerce").astype("float64")
    points["source"] = source_of(points["raw_file"])
    file_date = pd.to_datetime(points["raw_file"].str.extract(r"month=(\d{4}-\d{2})", expand=False) + "-01")
    ts_day = ts.dt.normalize()
    points["date"] = ts_day.fillna(ts_day.groupby(points["raw_file"]).transform("min")).fillna(file_date)

    values = points[["price_usd", "market_cap_usd", "volume_usd"]]
    ts_obj = points["ts"].to_numpy(dtype=object)
    aligned = (points["cap_ts"].to_numpy(dtype=object) == ts_obj) & (points["vol_ts"].to_numpy(dtype=object) == ts_obj)
    reason = np.select(
        [
            unreadable.to_numpy(),
            ~points["coin_id"].isin(known_coins).to_numpy(),
            ts.isna().to_numpy(),
            ~aligned,
            values.isna().any(axis=1).to_numpy(),
            (values < 0).any(axis=1).to_numpy(),
            ~np.isfinite(values.to_numpy()).all(axis=1),
        ],
        [points["reason"].to_numpy(dtype=object), "unknown_coin", "bad_timestamp", "misaligned_arrays", "null_value",
         "negative_value", "non_finite_value"],
        default=None,
    )
    points["reason"] = reason

    good = points[points["reason"].isna()]
    losers = _losers(good, ["coin_id", "ts_hour"], ["ts_ms", "raw_file", "pos"], [False, False, False])
    staged = good.drop(index=losers)[PRICE_COLUMNS].sort_values(["coin_id", "ts_hour"])
    rejected = points[points["reason"].notna()]
    records = [
        r if isinstance(r, str) else json.dumps(
            {"coin_id": c, "pos": p, "ts": _text(t), "price": _text(v), "market_cap": _text(m), "volume": _text(w)}
        )
        for r, c, p, t, v, m, w in zip(
            rejected["record"] if "record" in rejected else [None] * len(rejected), rejected["coin_id"], rejected["pos"],
            rejected["ts"], rejected["price"], rejected["market_cap"], rejected["volume"],
        )
    ]
    quarantine = rejected.assign(dataset="coin_hourly", record=records)[QUARANTINE_COLUMNS]
    return Classified(points, staged, quarantine, good.loc[losers, "date"])


def _text(value: object) -> str | None:
    """The text DuckDB reads a JSON scalar as (VARCHAR)."""
    return None if value is None else value if isinstance(value, str) else json.dumps(value)


def _losers(good: pd.DataFrame, key: list[str], order: list[str], ascending: list[bool]) -> pd.Index:
    """Index of the good records another copy of the same key supersedes (the first by `order` wins).

    Only keys seen more than once are sorted, so the cost follows the duplicates, not the table.
    """
    repeated = good[good.duplicated(key, keep=False)]
    ranked = repeated.sort_values(key + order, ascending=[True] * len(key) + ascending, na_position="last", kind="stable")
    return ranked.index[ranked.duplicated(key, keep="first")]


def read_posts(lake: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Every X tweet and Reddit post as one row (raw fields, typed later), and X's author id → username."""
    frames, users = [], {}
    for kind, pattern in (("x", "raw/*/x/posts/date=*/*.jsonl.gz"), ("reddit", "raw/*/reddit/posts/date=*/*.jsonl.gz")):
        for path in sorted(lake.glob(pattern)):
            raw_file = relative(lake, path)
            try:
                pages = [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines() if line.strip()]
                frame = _x_frame(pages, users) if kind == "x" else _reddit_frame(pages)
            except READ_ERRORS as e:
                message = str(e).splitlines()[0][:300] if str(e) else type(e).__name__
                frame = pd.DataFrame({"record": [message], "reason": ["unreadable_file"]})
            frames.append(frame.assign(raw_file=raw_file, kind=kind))
    posts = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["raw_file", "kind", "reason", "record"])
    raw_columns = ("post_id", "created_raw", "created_utc", "author_id", "author_name", "text", "lang", "channel")
    for column in ("reason", "record", *raw_columns, *COUNT_COLUMNS):
        if column not in posts:
            posts[column] = pd.Series(pd.NA, index=posts.index, dtype="Int64" if column in COUNT_COLUMNS else object)
    return posts, {k: min(v) for k, v in users.items()}


def _x_frame(pages: list[dict], users: dict[str, list[str]]) -> pd.DataFrame:
    for page in pages:
        for user in (page.get("includes") or {}).get("users") or []:
            users.setdefault(user.get("id"), []).append(user.get("username"))
    tweets = [t for page in pages for t in (page.get("data") or [])]
    metrics = [t.get("public_metrics") or {} for t in tweets]
    frame = pd.DataFrame(
        {
            "post_id": [t.get("id") for t in tweets],
            "created_raw": [t.get("created_at") for t in tweets],
            "author_id": [t.get("author_id") for t in tweets],
            "text": [t.get("text") for t in tweets],
            "lang": [t.get("lang") for t in tweets],
        },
        dtype=object,
    )
    for column in ("like_count", "retweet_count", "reply_count", "quote_count"):
        frame[column] = pd.array([m.get(column) for m in metrics], dtype="Int64")
    return frame


def _reddit_frame(pages: list[dict]) -> pd.DataFrame:
    children = [c for page in pages for c in ((page.get("data") or {}).get("children") or [])]
    data = [c.get("data") or {} for c in children]
    title = pd.Series([d.get("title") for d in data], dtype=object).fillna("")
    body = pd.Series([d.get("selftext") for d in data], dtype=object).fillna("")
    return pd.DataFrame(
        {
            "post_id": pd.Series([d.get("name") for d in data], dtype=object),
            "created_utc": pd.to_numeric(pd.Series([d.get("created_utc") for d in data], dtype=object), errors="coerce"),
            "author_id": pd.Series([d.get("author_fullname") or d.get("author") for d in data], dtype=object),
            "author_name": pd.Series([d.get("author") for d in data], dtype=object),
            "text": title.where(body == "", title + "\n\n" + body),
            "score": pd.array([d.get("score") for d in data], dtype="Int64"),
            "num_comments": pd.array([d.get("num_comments") for d in data], dtype="Int64"),
            "channel": pd.Series([d.get("subreddit") for d in data], dtype=object),
        }
    )


def classify_posts(posts: pd.DataFrame, users: dict[str, str]) -> Classified:
    """Parse timestamps, give each post its quarantine reason, keep one copy per (source, post_id)."""
    unreadable = posts["reason"].notna()
    posts["source"] = source_of(posts["raw_file"])
    created_x = pd.to_datetime(posts["created_raw"], format="ISO8601", utc=True, errors="coerce").dt.tz_localize(None)
    seconds = pd.to_numeric(posts["created_utc"], errors="coerce")
    usable = np.isfinite(seconds) & (seconds > 0)
    created_reddit = pd.to_datetime((seconds.where(usable) * 1_000_000).round(), unit="us")
    posts["created_at"] = created_x.where(posts["kind"] == "x", created_reddit)
    posts["author"] = posts["author_name"].fillna(posts["author_id"].map(users))
    file_date = pd.to_datetime(posts["raw_file"].str.extract(r"date=(\d{4}-\d{2}-\d{2})", expand=False))
    posts["date"] = posts["created_at"].dt.normalize().fillna(file_date)

    post_id = posts["post_id"].astype("string")
    text = posts["text"].astype("string")
    posts["reason"] = np.select(
        [
            unreadable.to_numpy(),
            (post_id.isna() | (post_id.str.strip(" ") == "")).to_numpy(dtype=bool, na_value=True),
            posts["created_at"].isna().to_numpy(),
            (text.isna() | (text.str.strip(" ") == "")).to_numpy(dtype=bool, na_value=True),
        ],
        [posts["reason"].to_numpy(dtype=object), "missing_id", "bad_timestamp", "empty_text"],
        default=None,
    )

    good = posts[posts["reason"].isna()]
    losers = _losers(good, ["source", "post_id"], ["raw_file", "like_count", "score", "text"], [False, False, False, True])
    staged = good.drop(index=losers)[POST_COLUMNS].sort_values(["source", "post_id"])
    rejected = posts[posts["reason"].notna()]
    records = [
        r if isinstance(r, str) else json.dumps(
            {"id": i, "text": t, "created_at": c, "author_id": a, "lang": lang}, default=str
        )
        for r, i, t, c, a, lang in zip(
            rejected["record"], rejected["post_id"], rejected["text"], rejected["created_raw"],
            rejected["author_id"], rejected["lang"],
        )
    ]
    quarantine = rejected.assign(dataset="posts", record=records)[QUARANTINE_COLUMNS]
    return Classified(posts, staged, quarantine, good.loc[losers, "date"])


def write_staged(ds: Classified, root: Path, name: str, days: list[dt.date], fmt: str) -> None:
    """Per day: the staged rows (`part-0.csv|parquet`), the quarantine and `_stats.json`."""
    counts = pd.DataFrame(
        {
            "received": ds.records.groupby("date").size(),
            "staged": ds.staged.groupby("date").size(),
            "quarantined": ds.quarantine.groupby("date").size(),
            "duplicates": ds.duplicate_dates.groupby(ds.duplicate_dates).size(),
        }
    ).fillna(0).astype("int64")
    data = dict(iter(ds.staged.groupby("date", sort=False)))
    rejected = dict(iter(ds.quarantine.sort_values(["raw_file", "reason", "record"]).groupby("date", sort=False)))
    for day in days:
        key = pd.Timestamp(day)
        folder = root / f"date={day.isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        if key in data:
            part = duckdb_types(data[key])
            if fmt == "csv":
                part.to_csv(folder / "part-0.csv", index=False)
            else:
                part.to_parquet(folder / "part-0.parquet", index=False, compression="zstd")
        if key in rejected:
            duckdb_types(rejected[key]).to_parquet(folder / "_quarantine.parquet", index=False)
        row = counts.loc[key] if key in counts.index else pd.Series(0, index=counts.columns)
        stats = {"dataset": name, "date": day.isoformat(), **{k: int(v) for k, v in row.items()}}
        (folder / "_stats.json").write_text(json.dumps(stats))


def read_staged_prices(root: Path, days: list[dt.date]) -> pd.DataFrame:
    files = [f for d in days if (f := root / "coin_hourly" / f"date={d.isoformat()}" / "part-0.csv").exists()]
    frame = pd.concat(
        [
            pd.read_csv(f, dtype={"coin_id": str, "source": str, "raw_file": str, "ts_ms": "int64"}, float_precision="round_trip")
            for f in files
        ],
        ignore_index=True,
    )
    frame["ts_hour"] = pd.to_datetime(frame["ts_hour"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def read_staged_posts(root: Path, days: list[dt.date]) -> pd.DataFrame:
    files = [f for d in days if (f := root / "posts" / f"date={d.isoformat()}" / "part-0.parquet").exists()]
    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


# -- dims (models/sql/dim_*.sql) -------------------------------------------------------------------
def build_dim_coin_alias(coins: pd.DataFrame, ambiguous: pd.DataFrame) -> pd.DataFrame:
    tracked = coins[coins["is_tracked"]].assign(symbol=lambda f: f["symbol"].str.lower(), name=lambda f: f["name"].str.lower())
    name, symbol = tracked["name"], tracked["symbol"]
    parts = [
        tracked.assign(alias="$" + symbol, kind="cashtag", priority=1),
        tracked.assign(alias="#" + symbol, kind="hashtag", priority=2),
        tracked.assign(alias="#" + name.str.replace(r"[^a-z0-9]", "", regex=True), kind="hashtag", priority=2),
        tracked[name.str.fullmatch(r"[a-z0-9]+", na=False)].assign(alias=lambda f: f["name"], kind="name", priority=3),
        tracked[name.str.fullmatch(r"[a-z0-9]+( [a-z0-9]+)+", na=False)].assign(alias=lambda f: f["name"], kind="phrase", priority=3),
        tracked[(symbol.str.len() >= 3) & symbol.str.fullmatch(r"[a-z0-9]+", na=False)].assign(
            alias=lambda f: f["symbol"], kind="symbol", priority=4
        ),
    ]
    candidates = pd.concat(parts, ignore_index=True)
    safe = candidates["kind"].isin(["cashtag", "hashtag", "phrase"]) | ~candidates["alias"].isin(set(ambiguous["word"]))
    ranked = candidates[safe].sort_values(["alias", "market_cap_rank", "priority", "coin_id"], na_position="last")
    return ranked.drop_duplicates("alias")[["alias", "coin_id", "kind"]].reset_index(drop=True)


def build_dim_time(start: dt.date, end: dt.date) -> pd.DataFrame:
    hours = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="h", inclusive="left")
    parts = {
        "year": hours.year, "quarter": hours.quarter, "month": hours.month, "day": hours.day, "hour": hours.hour,
        "iso_day_of_week": hours.dayofweek + 1, "iso_week": hours.isocalendar().week.to_numpy(),
    }
    frame = pd.DataFrame({k: np.asarray(v, dtype="int32") for k, v in parts.items()})
    frame.insert(0, "ts_hour", hours)
    frame.insert(0, "time_key", frame["year"] * 1000000 + frame["month"] * 10000 + frame["day"] * 100 + frame["hour"])
    frame["is_weekend"] = frame["iso_day_of_week"] >= 6
    frame["month_start"] = hours.to_period("M").to_timestamp()
    frame["date"] = hours.normalize()
    return frame


def build_dim_coin(coins: pd.DataFrame, aliases: pd.DataFrame) -> pd.DataFrame:
    joined = aliases.sort_values("alias").groupby("coin_id")["alias"].agg(" ".join).rename("aliases")
    frame = coins.merge(joined, left_on="coin_id", right_index=True, how="left")
    return frame[["coin_id", "symbol", "name", "market_cap_rank", "is_tracked", "aliases", "source"]]


# -- facts (models/sql/fct_*.sql, bridge_post_coin.sql) ---------------------------------------------
def build_fct_coin_hourly(staged: pd.DataFrame, dim_time: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    s = staged[(staged["ts_hour"] >= start) & (staged["ts_hour"] < end)]
    s = s.merge(dim_time[["ts_hour", "time_key"]], on="ts_hour", how="left")
    s = s.rename(columns={"ts_ms": "source_ts_ms"})
    return s[["coin_id", "time_key", "ts_hour", "price_usd", "market_cap_usd", "volume_usd", "source_ts_ms", "source", "date"]]


def build_fct_post(staged: pd.DataFrame, dim_time: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    s = staged[(staged["created_at"] >= start) & (staged["created_at"] < end)]
    s = s.assign(ts_hour=s["created_at"].dt.floor("h")).merge(dim_time[["ts_hour", "time_key"]], on="ts_hour", how="left")
    return s[
        ["post_id", "source", "time_key", "created_at", "author_id", "author", "text", "lang", "like_count",
         "retweet_count", "reply_count", "quote_count", "score", "num_comments", "channel", "date"]
    ]


def build_bridge_post_coin(posts: pd.DataFrame, aliases: pd.DataFrame) -> pd.DataFrame:
    """One row per (post, coin): tokens equi-joined to word aliases, plus phrases found as substrings.

    The words inside a phrase that are aliases of their own lose the phrase's occurrences ('bitcoin' in
    'bitcoin cash'), exactly as the SQL model's `hidden_words`.
    """
    lower = posts["text"].str.lower()
    # min(kind) as in SQL: kinds as their rank in sorted order, so the groupby stays vectorised
    kinds = sorted(set(aliases["kind"]) | {"phrase"})
    aliases = aliases.assign(kind=aliases["kind"].map({k: i for i, k in enumerate(kinds)}))
    phrase_code = kinds.index("phrase")
    words = aliases[aliases["kind"] != phrase_code]
    tokens = lower.str.split(TOKEN_SPLIT, regex=True).explode()
    tokens = tokens[tokens.isin(set(words["alias"]))]
    hits = pd.DataFrame({"row": tokens.index, "alias": tokens.to_numpy()}).merge(words, on="alias")
    counts = hits.groupby(["row", "coin_id"]).agg(kind=("kind", "min"), mentions=("alias", "size")).reset_index()

    phrases, hidden = [], []
    for phrase in aliases[aliases["kind"] == phrase_code].itertuples(index=False):
        found = lower.str.count(re.escape(phrase.alias))
        found = found[found > 0]
        phrases.append(pd.DataFrame({"row": found.index, "coin_id": phrase.coin_id, "kind": phrase_code, "mentions": found.to_numpy()}))
        inside = words[(" " + words["alias"] + " ").map(lambda w, p=f" {phrase.alias} ": w in p)]
        for coin in inside["coin_id"]:
            hidden.append(pd.DataFrame({"row": found.index, "coin_id": coin, "hidden": found.to_numpy()}))
    if hidden:
        taken = pd.concat(hidden).groupby(["row", "coin_id"])["hidden"].sum()
        counts = counts.merge(taken, left_on=["row", "coin_id"], right_index=True, how="left")
        counts["mentions"] = counts["mentions"] - counts.pop("hidden").fillna(0).astype("int64")
    mentions = pd.concat([counts, *phrases], ignore_index=True)
    per_coin = mentions.groupby(["row", "coin_id"]).agg(mention_kind=("kind", "min"), mentions=("mentions", "sum"))
    per_coin = per_coin[per_coin["mentions"] > 0].reset_index()
    per_coin["mentions"] = per_coin["mentions"].astype("int64")
    per_coin["mention_kind"] = np.asarray(kinds, dtype=object)[per_coin["mention_kind"].to_numpy()]
    bridge = per_coin.merge(posts[["post_id", "source", "time_key", "date"]], left_on="row", right_index=True)
    return bridge[["post_id", "source", "coin_id", "time_key", "mention_kind", "mentions", "date"]].reset_index(drop=True)


# -- aggregate (models/sql/agg_coin_monthly.sql) ---------------------------------------------------
def build_agg_coin_monthly(hourly: pd.DataFrame) -> pd.DataFrame:
    frame = hourly.sort_values(["coin_id", "ts_hour"])
    frame = frame.assign(month=frame["ts_hour"].dt.to_period("M").dt.to_timestamp())
    return (
        frame.groupby(["coin_id", "month"], sort=False)
        .agg(
            min_price_usd=("price_usd", "min"), max_price_usd=("price_usd", "max"),
            min_market_cap_usd=("market_cap_usd", "min"), max_market_cap_usd=("market_cap_usd", "max"),
            min_volume_usd=("volume_usd", "min"), max_volume_usd=("volume_usd", "max"),
            first_price_usd=("price_usd", "first"), last_price_usd=("price_usd", "last"),
            hours=("price_usd", "size"), first_hour=("ts_hour", "min"), last_hour=("ts_hour", "max"),
        )
        .reset_index()
    )


# -- publish (cryptopulse.lake.publish) ------------------------------------------------------------
def publish(tables: dict[str, pd.DataFrame], root: Path) -> None:
    """Each table sorted by its key; facts one file per day (`date=…/part-0.parquet`, no date column), others one file."""
    for name, frame in tables.items():
        key, partitioned = PUBLISHED[name]
        frame = frame.sort_values(key)
        if not partitioned:
            (root / name).mkdir(parents=True, exist_ok=True)
            duckdb_types(frame).to_parquet(root / name / "part-0.parquet", index=False, compression="zstd")
            continue
        for day, part in frame.groupby("date"):
            folder = root / name / f"date={day.date().isoformat()}"
            folder.mkdir(parents=True, exist_ok=True)
            duckdb_types(part.drop(columns="date")).to_parquet(folder / "part-0.parquet", index=False, compression="zstd")


# -- helpers ---------------------------------------------------------------------------------------
def relative(lake: Path, path: Path) -> str:
    return path.relative_to(lake).as_posix()


def source_of(raw_file: str | pd.Series) -> str | pd.Series:
    """The `<source>` of a lake-relative raw path (`raw/<source>/…`)."""
    if isinstance(raw_file, str):
        return raw_file.split("/")[1]
    return raw_file.str.extract(r"raw/([^/]+)/", expand=False)


def duckdb_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Column types as DuckDB writes them: dates as DATE, timestamps in microseconds, all-NULL text as text."""
    fixes = {}
    for column, values in frame.items():
        if pd.api.types.is_datetime64_any_dtype(values):
            fixes[column] = values.dt.date if column in DATE_COLUMNS else values.astype("datetime64[us]")
        elif values.dtype == object and len(values) and pd.isna(values.iat[0]) and values.isna().all():
            fixes[column] = values.astype("string")
    return frame.assign(**fixes) if fixes else frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", required=True, help="lake root holding raw/")
    parser.add_argument("--out", required=True, help="directory for the staged and published output")
    args = parser.parse_args()
    print(json.dumps(run_pandas(args.lake, args.out), indent=2))


if __name__ == "__main__":
    main()
