"""Columns recognised by meaning, ambiguous headers, banner lines, the bundled coin catalog, the coin of a price file,
and dry runs — each on literal files shaped like the public exports people have."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from cryptopulse.lake import Lake
from cryptopulse.sources.importers import ImportFileError, import_file
from cryptopulse.sources.importers.catalog import LANDED_LIST, LANDED_MARKETS, bundled
from cryptopulse.sources.importers.columns import normalise, recognise


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(str(tmp_path / "lake"))


def tweets_of(lake: Lake, relpaths: list[str]) -> list[dict]:
    pages = [json.loads(line) for f in relpaths for line in gzip.decompress(lake.read_bytes(f)).decode().splitlines()]
    return [t for page in pages for t in page["data"]]


# -- columns by meaning ---------------------------------------------------------------------------------------


def test_names_are_compared_without_case_spaces_or_punctuation():
    assert normalise(" Created At ") == normalise("created_at") == normalise("CREATED-AT") == "createdat"
    assert recognise(["Tweet ID", "Created At", "Full Text"], "x").mapping == {
        "id": "Tweet ID", "created_at": "Created At", "text": "Full Text"}


# The layouts of the six tweet exports the issue found refused, as their headers read.
@pytest.mark.parametrize(
    ("header", "row", "mapping"),
    [
        # a pandas index column (blank name), then date / screen name / tweet / tweet id
        (",date,screen name,tweet,tweet id", "0,2021-03-01 10:00:00,alice,$btc to the moon,1366400000000000001",
         {"id": "tweet id", "created_at": "date", "author": "screen name", "text": "tweet"}),
        ("Unnamed: 0,Datetime,Tweet Id,Text,Username", "0,2021-03-01 10:00:00+00:00,1366400000000000001,$btc to the moon,alice",
         {"id": "Tweet Id", "created_at": "Datetime", "author": "Username", "text": "Text"}),
        ("timestamp,text,language", "2021-03-01T10:00:00Z,$btc to the moon,en",
         {"created_at": "timestamp", "text": "text", "lang": "language"}),
        # a sentiment tool's output: the handle is the author (not the display name), its scores are ignored
        ("User Name,Handle,Timestamp,Likes,Retweets,Replies,Text,compound,neg,neu,pos",
         "Alice A.,@alice,2021-03-01 10:00:00,5,2,1,$btc to the moon,0.5,0.0,0.6,0.4",
         {"created_at": "Timestamp", "author": "Handle", "text": "Text", "like_count": "Likes", "retweet_count": "Retweets",
          "reply_count": "Replies"}),
        ("status_id,created_at,screen_name,text,favorite_count,retweet_count,lang",
         "1366400000000000001,2021-03-01 10:00:00,alice,$btc to the moon,5,2,en",
         {"id": "status_id", "created_at": "created_at", "author": "screen_name", "text": "text", "like_count": "favorite_count",
          "retweet_count": "retweet_count", "lang": "lang"}),
        ("content,date,user,likes", "$btc to the moon,2021-03-01 10:00:00,alice,5",
         {"created_at": "date", "author": "user", "text": "content", "like_count": "likes"}),
    ],
)
def test_tweet_exports_are_read_by_what_their_columns_mean(tmp_path, lake, header, row, mapping):
    report = import_file(lake, write(tmp_path, "export.csv", f"{header}\n{row}\n"), "posts")
    assert (report.format, report.detected, report.mapping, report.loaded) == ("tweets-csv", True, mapping, 1)
    (tweet,) = tweets_of(lake, report.landed)
    assert (tweet["text"], tweet["created_at"]) == ("$btc to the moon", "2021-03-01T10:00:00.000Z")
    assert tweet["id"] == "1366400000000000001" if "id" in mapping else tweet["id"].startswith("cid-")


def test_posts_without_ids_get_the_same_derived_id_on_every_import(tmp_path, lake):
    path = write(tmp_path, "export.csv", "timestamp,text\n2021-03-01 10:00,a\n2021-03-01 10:00,a\n2021-03-01 11:00,a\n")
    first = import_file(lake, path, "posts")
    assert (first.loaded, first.duplicates, first.derived_ids) == (2, 1, 3)
    ids = [t["id"] for t in tweets_of(lake, first.landed)]
    assert all(i.startswith("cid-") for i in ids) and len(set(ids)) == 2
    assert [t["id"] for t in tweets_of(lake, import_file(lake, path, "posts").landed)] == ids


def test_an_id_column_that_names_authors_is_taken_as_the_author_id(tmp_path, lake):
    """`ids` repeating one value per screen name (as in MIS375) identifies users: both tweets of u1 are kept."""
    path = write(tmp_path, "export.csv", "ids,screen_name,text,date\n7,u1,first,2018-04-17 10:00\n7,u1,second,2018-04-17 11:00\n"
                                         "8,u2,third,2018-04-17 12:00\n")
    report = import_file(lake, path, "posts")
    assert (report.loaded, report.duplicates, report.derived_ids) == (3, 0, 3)
    assert report.mapping["author_id"] == "ids" and "id" not in report.mapping
    assert sorted(t["author_id"] for t in tweets_of(lake, report.landed)) == ["7", "7", "8"]


def test_a_repeated_post_id_of_several_authors_stays_a_post_id(tmp_path, lake):
    path = write(tmp_path, "export.csv", "id,user,text,date\n1,u1,a,2018-04-17 10:00\n1,u1,a,2018-04-17 10:00\n"
                                         "2,u1,b,2018-04-17 11:00\n3,u2,c,2018-04-17 12:00\n")
    report = import_file(lake, path, "posts")
    assert (report.loaded, report.duplicates, report.derived_ids, report.mapping["id"]) == (3, 1, 0, "id")


def test_reddit_title_and_selftext(tmp_path, lake):
    path = write(tmp_path, "posts.csv", "Title,SelfText,Created UTC,Subreddit,ID,Upvotes\nHello,$eth body,1704110400,ethereum,abc,7\n")
    report = import_file(lake, path, "posts")
    assert (report.format, report.mapping) == ("reddit-csv", {
        "id": "ID", "created_at": "Created UTC", "title": "Title", "body": "SelfText", "score": "Upvotes", "channel": "Subreddit"})
    (listing,) = [json.loads(line) for line in gzip.decompress(lake.read_bytes(report.landed[0])).decode().splitlines()]
    child = listing["data"]["children"][0]["data"]
    assert (child["name"], child["title"], child["selftext"], child["subreddit"], child["score"]) == (
        "t3_abc", "Hello", "$eth body", "ethereum", 7)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("date,time,text", "ambiguous header: created_at could be 'date' or 'time'; say which with --map \"date=created_at,text=text\""),
        ("created_at,tweet,text,username",
         "ambiguous header: text could be 'tweet' or 'text'; say which with --map \"created_at=created_at,username=author,tweet=text\""),
    ],
)
def test_ambiguous_headers_are_refused_with_the_map_line_to_use(tmp_path, lake, header, message):
    path = write(tmp_path, "amb.csv", f"{header}\n" + ",".join(["2021-03-01 10:00"] + ["x"] * (header.count(","))) + "\n")
    with pytest.raises(ImportFileError) as e:
        import_file(lake, path, "posts")
    assert str(e.value) == f"{path}: {message}"
    suggested = re.search(r'--map "([^"]+)"', str(e.value)).group(1)
    assert import_file(lake, path, "posts", mapping=suggested).loaded == 1  # the suggestion works as given


def test_a_format_name_forces_the_shape_and_the_old_preset_names_still_work(tmp_path, lake):
    path = write(tmp_path, "p.csv", "id,created_at,text\n1,2021-03-01 10:00,hello\n")
    assert import_file(lake, path, "posts", fmt="reddit-csv").mapping == {"id": "id", "created_at": "created_at", "body": "text"}
    assert import_file(lake, path, "posts", fmt="id-created_at-text").format == "tweets-csv"
    assert not import_file(lake, path, "posts", fmt="tweets-csv").detected


# -- banners ---------------------------------------------------------------------------------------------------


def test_any_number_of_banner_lines_before_the_header(tmp_path, lake):
    """Two CryptoDataDownload-style banner lines, the second with a comma in it, then the header."""
    rows = "".join(f"{1704067200 + h * 3600},2024-01-01 {h:02d}:00,ETH/USDT,2000.{h},{100 + h},{200000 + h}\n" for h in range(3))
    path = write(tmp_path, "Binance_ETHUSDT_1h.csv", "https://www.CryptoDataDownload.com\nTimestamps are UTC timezone,hourly\n"
                                                     "unix,date,symbol,close,Volume ETH,Volume USDT\n" + rows)
    report = import_file(lake, path, "prices")
    assert (report.read, report.loaded, report.quarantined) == (3, 3, 0)
    assert any(n.startswith("skipped 2 banner line(s)") for n in report.notes)
    assert report.mapping == {"timestamp": "unix", "price": "close", "volume": "Volume USDT", "symbol": "symbol"}


# -- the coin catalog and the coin of a price file -------------------------------------------------------------


def test_the_bundled_catalog_is_dated_and_ranked():
    catalog = bundled()
    assert catalog.as_of == "2023-10-08" and len(catalog.coins) == 100
    assert [(c.coin_id, c.symbol, c.market_cap_rank) for c in catalog.coins[:2]] == [("bitcoin", "btc", 1), ("ethereum", "eth", 2)]
    assert [c.market_cap_rank for c in catalog.coins] == list(range(1, 101))


CHART = "Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-01,1,2,0.5,1.5,1.5,1000\n2024-01-02,1.5,2,1,1.8,1.8,1200\n"


@pytest.mark.parametrize(
    ("name", "text", "coin"),
    [
        ("BTC-USD.csv", CHART, "bitcoin"),  # Yahoo Finance's file name
        ("ethereum_daily.csv", CHART, "ethereum"),
        ("Binance_SOLUSDT_d.csv", CHART, "solana"),  # `sol` alone is an everyday word; as a pair it is not
        ("bitcoin-cash-history.csv", CHART, "bitcoin-cash"),  # a longer name wins over the `bitcoin` inside it
        ("prices.csv", "time,pair,price,volume\n1704067200,BTCUSD,42000,10\n", "bitcoin"),
        ("prices.csv", "time,ticker,price,volume\n1704067200,ETH-USDT,2300,10\n", "ethereum"),
        ("prices.csv", "time,symbol,price,volume\n1704067200,ETHUSDT,2300,10\n", "ethereum"),
    ],
)
def test_the_coin_comes_from_a_pair_column_or_the_file_name(tmp_path, lake, name, text, coin):
    report = import_file(lake, write(tmp_path, name, text), "prices")
    assert report.loaded == text.count("\n") - 1
    assert [f.rsplit("/", 1)[1].split("@")[0] for f in report.landed] == [coin]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("prices.csv", CHART, "the file has no symbol column and its name names no coin; pass --coin ID"),
        ("btc_vs_eth.csv", CHART, "the file has no symbol column and its name could be bitcoin or ethereum; pass --coin ID"),
        ("p.csv", "time,pair,price,volume\n1704067200,ETHBTC,0.05,10\n", "symbol 'ETHBTC' is quoted in BTC, not in US dollars"),
        ("p.csv", "time,pair,price,volume\n1704067200,BTCUSD,1,1\n1704070800,ETHUSD,1,1\n",
         "the symbol column names 2 pairs (BTCUSD, ETHUSD, …); import one coin per file, or pass --coin ID"),
        ("p.csv", "time,pair,price,volume\n1704067200,ZZZUSD,1,1\n", "no coin has symbol 'zzzusd' (from 'ZZZUSD'); pass --coin ID"),
    ],
)
def test_a_price_file_whose_coin_is_unclear_asks_for_coin_in_one_line(tmp_path, lake, name, text, message):
    with pytest.raises(ImportFileError) as e:
        import_file(lake, write(tmp_path, name, text), "prices")
    assert message in str(e.value) and "\n" not in str(e.value)


def test_coin_works_in_a_fresh_lake_and_lands_the_catalog_for_staging(tmp_path, lake):
    report = import_file(lake, write(tmp_path, "prices.csv", CHART), "prices", coin="dogecoin")
    assert report.loaded == 2
    listed = json.loads(lake.read_bytes(LANDED_LIST))
    assert len(listed) == 100 and listed[0] == {"id": "bitcoin", "symbol": "btc", "name": "Bitcoin"}
    assert json.loads(lake.read_bytes(LANDED_MARKETS))[7]["market_cap_rank"] == 8
    assert any("landed the bundled catalog (100 largest coins by market cap, CoinGecko, as of 2023-10-08)" in n for n in report.notes)


def test_a_lake_with_its_own_coin_list_gets_no_catalog(tmp_path, lake):
    lake.write_bytes("raw/test/coingecko/coins_list.json", json.dumps([{"id": "mycoin", "symbol": "myc", "name": "My"}]).encode())
    with pytest.raises(ImportFileError, match="coin 'bitcoin' is not in any coins list in the lake"):
        import_file(lake, write(tmp_path, "prices.csv", CHART), "prices", coin="bitcoin")
    assert import_file(lake, write(tmp_path, "prices.csv", CHART), "prices", coin="mycoin").loaded == 2
    assert not lake.exists(LANDED_LIST)


def test_a_base_currency_volume_is_used_only_without_a_usd_volume(tmp_path, lake):
    path = write(tmp_path, "BTCUSD.csv", "date,close,Volume BTC\n2024-01-01,40000,2\n")
    report = import_file(lake, path, "prices")
    assert report.mapping == {"timestamp": "date", "price": "close", "volume_base": "Volume BTC"}
    assert report.preview == [{"coin": "bitcoin", "timestamp": "2024-01-01T00:00:00Z", "price": 40000.0, "volume": 80000.0}]


# -- dry runs --------------------------------------------------------------------------------------------------


def test_a_dry_run_counts_and_previews_but_lands_nothing(tmp_path, lake):
    rows = "".join(f"{i},2021-03-0{1 + i % 2} 10:00,tweet {i}\n" for i in range(7))
    report = import_file(lake, write(tmp_path, "t.csv", "id,date,text\n" + rows + "7,never,bad\n"), "posts", dry_run=True)
    assert (report.read, report.loaded, report.quarantined, report.landed) == (8, 7, 1, [])
    assert [r["id"] for r in report.preview] == ["0", "1", "2", "3", "4"]
    assert report.preview[1] == {"id": "1", "created_at": "2021-03-02T10:00:00.000Z", "author": None, "text": "tweet 1"}
    assert not Path(lake.root).exists()  # not even the catalog or a quarantine file
