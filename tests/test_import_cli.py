"""`cryptopulse import`: exit codes and reports, staging of imported shapes, and imported posts/prices through `run`."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json

import duckdb

from cryptopulse.cli import app
from cryptopulse.lake import Lake
from cryptopulse.pipeline import run
from realdata import real


def rows(warehouse: str, sql: str) -> list[tuple]:
    con = duckdb.connect(warehouse, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def import_json(cli, lake: str, *args: str) -> dict:
    result = cli.invoke(app, ["import", *args, "--lake", lake, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_cli_reports_the_chosen_format_and_the_counts(tmp_path, cli):
    path = tmp_path / "t.csv"
    path.write_text("id,created_at,text\n1,2018-06-09 06:00,a\n1,2018-06-09 06:00,a\n2,never,b\n")
    result = cli.invoke(app, ["import", "posts", str(path), "--lake", str(tmp_path / "lake")])
    assert result.exit_code == 0, result.output
    assert "format tweets-csv (detected): 3 read = 1 loaded + 1 duplicates + 1 quarantined (bad_timestamp 1)" in result.output
    assert "\n  mapping: id ← id, created_at ← created_at, text ← text\n" in result.output
    report = import_json(cli, str(tmp_path / "lake"), "posts", str(path))
    assert {k: report[k] for k in ("format", "read", "loaded", "duplicates", "quarantined", "reasons", "mapping")} == {
        "format": "tweets-csv", "read": 3, "loaded": 1, "duplicates": 1, "quarantined": 1, "reasons": {"bad_timestamp": 1},
        "mapping": {"id": "id", "created_at": "created_at", "text": "text"}}


def test_cli_dry_run_shows_format_mapping_and_five_records_and_lands_nothing(tmp_path, cli):
    path = tmp_path / "export.csv"
    path.write_text(",Date,Screen Name,Tweet\n" + "".join(f"{i},2021-03-01 1{i}:00,user{i},$btc number {i}\n" for i in range(7)))
    lake = tmp_path / "lake"
    result = cli.invoke(app, ["import", "posts", str(path), "--lake", str(lake), "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("format tweets-csv (detected): 7 read = 7 loaded + 0 duplicates + 0 quarantined — dry run, nothing landed")
    assert lines[1] == "  mapping: created_at ← Date, author ← Screen Name, text ← Tweet"
    records = [json.loads(line.split(": ", 1)[1]) for line in lines if line.startswith("  record ")]
    assert [(r["created_at"], r["author"], r["text"]) for r in records] == [
        (f"2021-03-01T1{i}:00:00.000Z", f"user{i}", f"$btc number {i}") for i in range(5)]
    assert not lake.exists()


def test_cli_user_errors_exit_2_with_one_line(tmp_path, cli):
    lake = str(tmp_path / "lake")
    (tmp_path / "p.csv").write_text("a,b\n1,2\n")
    (tmp_path / "q.csv").write_text("t,p,v\n1700000000,1,2\n")
    (tmp_path / "r.csv").write_text("Date,Time,Tweet\n2021-03-01,10:00,hi\n")
    for args, message in (
        (["posts", str(tmp_path / "missing.csv")], "missing.csv: no such file"),
        (["posts", str(tmp_path / "p.csv"), "--format", "bogus"], "p.csv: unknown --format 'bogus'"),
        (["posts", str(tmp_path / "p.csv"), "--map", "a=when"], "p.csv: --map a=when: unknown field 'when'"),
        (["prices", str(tmp_path / "p.csv"), "--map", "a=price,b=price"], "p.csv: --map names field 'price' twice"),
        (["prices", str(tmp_path / "p.csv"), "--map", "a=timestamp,b=price"], "p.csv: no volume column"),
        (["prices", str(tmp_path / "p.csv"), "--map", "a=timestamp,b=price,b=volume"], "p.csv: --map names column 'b' twice"),
        (["prices", str(tmp_path / "p.csv"), "--map", "a=timestamp,b=price,a=volume"], "p.csv: --map names column 'a' twice"),
        (["prices", str(tmp_path / "q.csv"), "--map", "t=timestamp,p=price,v=volume"],
         "q.csv: the file has no symbol column and its name names no coin; pass --coin ID"),
        (["prices", str(tmp_path / "q.csv"), "--map", "t=timestamp,p=price,v=volume", "--coin", "not-a-coin"],
         "q.csv: coin 'not-a-coin' is not in the bundled catalog (100 largest coins by market cap, CoinGecko, as of 2023-10-08)"),
        (["posts", str(tmp_path / "r.csv")],
         "r.csv: ambiguous header: created_at could be 'Date' or 'Time'; say which with --map \"Date=created_at,Tweet=text\""),
    ):
        result = cli.invoke(app, ["import", *args, "--lake", lake])
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


def _gz(obj: object) -> bytes:
    return gzip.compress(json.dumps(obj).encode(), mtime=0)


def test_staging_takes_an_absent_market_caps_array_as_null_but_a_null_inside_as_bad(tiny, tmp_path):
    """tiny holds bitcoin/ethereum for 2024-01-01..02; harmony's prices come from an OHLCV file (no market cap)."""
    lake = Lake(tiny.lake)
    ohlcv = tmp_path / "Binance_ONEUSDT_1h.csv"
    ohlcv.write_text("https://www.CryptoDataDownload.com\nunix,date,symbol,close,Volume USDT\n"
                     + "".join(f"{1704067200 + h * 3600},x,ONE/USDT,0.01{h:02d},{1000 + h}\n" for h in range(48)))
    from cryptopulse.sources.importers import import_file

    report = import_file(lake, ohlcv, "prices", coin="harmony")
    assert report.landed == ["raw/import/coingecko/market_chart/month=2024-01/harmony@binance-oneusdt-1h-csv.json.gz"]
    chart = {"prices": [[1704067205000, 1.0]], "market_caps": [[1704067205000, None]], "total_volumes": [[1704067205000, 5.0]]}
    lake.write_bytes("raw/test/coingecko/market_chart/month=2024-01/bitcoin-cash.json.gz", _gz(chart))
    result = run(tiny)
    assert not result.failures
    assert rows(tiny.warehouse, "SELECT count(*), count(market_cap_usd), min(price_usd), max(volume_usd) FROM fct_coin_hourly "
                                "WHERE coin_id = 'harmony'") == [(48, 0, 0.01, 1047.0)]
    assert rows(tiny.warehouse, "SELECT source FROM fct_coin_hourly WHERE coin_id = 'harmony' GROUP BY ALL") == [("import",)]
    assert rows(tiny.warehouse, "SELECT reason, raw_file FROM quarantine WHERE dataset = 'coin_hourly' AND reason = 'null_value'") == [
        ("null_value", "raw/test/coingecko/market_chart/month=2024-01/bitcoin-cash.json.gz")]


PRAW_CSV = (
    "title,score,id,url,num_comments,created,selftext\r\n"
    'Daily thread,5,1a,https://www.reddit.com/r/CryptoCurrency/comments/1a/x/,3,2024-05-20 10:00:00,"line one\r\nline two"\n'
    "ETH merge talk $eth,7,1b,https://www.reddit.com/r/ethereum/comments/1b/y/,1,2024-05-21 11:30:00,\n"
    "ETH merge talk $eth,7,1b,https://www.reddit.com/r/ethereum/comments/1b/y/,1,2024-05-21 11:30:00,\n"
    "no time,1,1c,https://www.reddit.com/r/Bitcoin/comments/1c/z/,0,,body\n"
)


def _binance_hours(first: dt.date, end: dt.date) -> int:
    """Distinct hours of the real Binance file inside [first, end), counted with the csv module (not the importer)."""
    with real("prices/crypto_data_Binance_BTCUSDT_1h.csv").open(newline="") as f:
        next(f)
        hours = set()
        for row in csv.DictReader(f):
            seconds = float(row["unix"]) / (1000 if float(row["unix"]) >= 1e11 else 1)
            if first <= dt.datetime.fromtimestamp(seconds, dt.UTC).date() < end:
                hours.add(seconds // 3600)
    return len(hours)


def test_imported_posts_and_prices_flow_through_run_beside_synthetic_data(small, tmp_path, cli):
    """Real coins + Binance prices + MIS375 tweets (2018-04-16/17) and a PRAW CSV (2024-05) into the synthetic lake; two runs."""
    lake = small.lake
    import_json(cli, lake, "prices", str(real("prices/crypto-cli_coingecko_coins_list_dict.json")))
    import_json(cli, lake, "prices", str(real("prices/Cryptosphere_coingecko_coins_markets_wrapped.json")))
    import_json(cli, lake, "prices", str(real("prices/crypto_data_Binance_BTCUSDT_1h.csv")))
    tweets = import_json(cli, lake, "posts", str(real("tweets/MIS375_bitcoin_tweets.csv")))
    praw = tmp_path / "reddit_posts.csv"
    praw.write_text(PRAW_CSV)
    reddit = import_json(cli, lake, "posts", str(praw))
    assert (reddit["format"], reddit["loaded"], reddit["duplicates"], reddit["reasons"]) == ("reddit-csv", 2, 1, {"bad_timestamp": 1})

    for start, end in (("2018-04-16", "2018-04-18"), ("2024-05-11", "2024-06-01")):
        result = cli.invoke(app, ["run", "--start", start, "--end", end, "--lake", lake, "--warehouse", small.warehouse])
        assert result.exit_code == 0, result.output

    wh = small.warehouse
    assert rows(wh, "SELECT DISTINCT source FROM fct_post ORDER BY 1") == [("import",), ("synthetic",)]
    assert not Lake(lake).exists("raw/catalog/coingecko/coins_list.json")  # the lake has coin lists of its own
    # staging quarantines or deduplicates none of the imported posts: every post the importer loaded is a fact row
    assert rows(wh, "SELECT count(*) FROM quarantine WHERE source = 'import'") == [(0,)]
    assert rows(wh, "SELECT count(*) FROM fct_post WHERE source = 'import'") == [(tweets["loaded"] + reddit["loaded"],)]
    assert rows(wh, "SELECT post_id, channel, text FROM fct_post WHERE source = 'import' AND channel IS NOT NULL ORDER BY 1") == [
        ("t3_1a", "CryptoCurrency", "Daily thread\n\nline one\nline two"),
        ("t3_1b", "ethereum", "ETH merge talk $eth"),
    ]
    assert rows(wh, "SELECT count(*) FROM fct_coin_hourly WHERE source = 'import' AND coin_id = 'bitcoin'") == [
        (_binance_hours(dt.date(2018, 4, 16), dt.date(2018, 4, 18)),)]
    assert rows(wh, "SELECT count(*) > 0 FROM bridge_post_coin b JOIN fct_post p USING (source, post_id) WHERE p.source = 'import'") == [
        (True,)]


def test_a_fresh_lake_runs_on_real_imports_alone(tmp_path, cli):
    """No coin list and no synthetic data: real tweets (MIS375) and real prices (Binance), both with --format auto, then
    `run` over their two days. The bundled catalog gives dim_coin its coins and the tweets their mentions."""
    lake, warehouse = str(tmp_path / "lake"), str(tmp_path / "warehouse.duckdb")
    tweets = import_json(cli, lake, "posts", str(real("tweets/MIS375_bitcoin_tweets.csv")))
    prices = import_json(cli, lake, "prices", str(real("prices/crypto_data_Binance_BTCUSDT_1h.csv")))
    assert (tweets["loaded"], prices["loaded"]) == (2761, 29532)
    result = cli.invoke(app, ["run", "--start", "2018-04-16", "--end", "2018-04-18", "--lake", lake, "--warehouse", warehouse])
    assert result.exit_code == 0, result.output
    # MIS375's `date` column runs from Mon Apr 16 22:24:13 to Tue Apr 17 23:29:43 2018 (UTC): all 2,761 tweets
    assert rows(warehouse, "SELECT count(*), min(source), max(source) FROM fct_post") == [(2761, "import", "import")]
    # the Binance file has each of the 48 hours of those two days (counted with the csv module)
    assert _binance_hours(dt.date(2018, 4, 16), dt.date(2018, 4, 18)) == 48
    assert rows(warehouse, "SELECT count(*), min(coin_id), max(coin_id) FROM fct_coin_hourly") == [(48, "bitcoin", "bitcoin")]
    assert rows(warehouse, "SELECT count(*), min(source), max(source) FROM dim_coin") == [(100, "catalog", "catalog")]
    assert rows(warehouse, "SELECT count(*) FROM quarantine") == [(0,)]
    # 1,715 tweets name Bitcoin: split into words on [^a-z0-9$#] (csv module + re), 1,744 have bitcoin, btc, #bitcoin,
    # #btc or $btc; in 29 of them 'bitcoin' only occurs inside the catalog's phrases 'bitcoin cash', 'bitcoin sv' or
    # 'wrapped bitcoin', which name other coins
    assert rows(warehouse, "SELECT count(DISTINCT post_id) FROM bridge_post_coin WHERE coin_id = 'bitcoin'") == [(1715,)]
