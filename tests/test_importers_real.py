"""Every real file in ../shared/data/real/ imports into a fresh lake with `--format auto`, with the counts a reader finds.

How the expected numbers were found (independently of the importer, in a Python shell with the csv and json modules):
- read: CSV records after the header (`csv.reader` over the text with line ends made LF, blank records left out — `wc -l`
  overcounts, since texts span lines); JSON: the length of the `prices` array, of the coin dict, of `data`.
- duplicates: a repeated key — the tweet/post id, or for files without usable ids the same (text, time, author);
  for prices the same instant (Binance gives 2,649 hours twice: once in unix ms, once in unix s).
- quarantined: values no reader could use — 243 daily rows of the CoinMarketCap export have volume `-`.
- derived ids: rows whose id is absent or spreadsheet-rounded (`1.00534E+18`), or whose id column names users (MIS375's
  `ids`: 2,041 values, one per `screen_name`, 314 of them repeated with other texts).
Each count is also in the table of docs/IMPORTERS.md.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable

import pytest

from cryptopulse.lake import Lake
from cryptopulse.sources.importers import ImportFileError, ImportReport, import_file
from cryptopulse.sources.importers.catalog import LANDED_LIST
from realdata import REAL, real

# file → (format, read, loaded, duplicates, quarantined, reasons, derived ids, mapping of a CSV: field → column)
EXPECTED = {
    # 3,242 records, 3,242 distinct ids
    "tweets/BAChallengeTeam3_Bitcoin_tweets.csv": ("tweets-csv", 3242, 3242, 0, 0, {}, 0,
                                                   {"id": "id", "created_at": "created_at", "text": "text"}),
    # 3,212 records (`\r\r\n` line ends), 3,212 distinct ids
    "tweets/BAChallengeTeam3_coindesk_tweets.csv": ("tweets-csv", 3212, 3212, 0, 0, {}, 0,
                                                    {"id": "id", "created_at": "created_at", "text": "text"}),
    # 3,239 records, every id spreadsheet-rounded (3,128 distinct roundings); no two rows share text and time
    "tweets/coinberghackathon_Bitcoin_tweets.csv": ("tweets-csv", 3239, 3239, 0, 0, {}, 3239, {
        "id": "id", "created_at": "created_at", "text": "text", "like_count": "Likes", "retweet_count": "Retweet"}),
    # 2,761 records; `ids` are user ids (see above); no two rows share text, time and screen name
    "tweets/MIS375_bitcoin_tweets.csv": ("tweets-csv", 2761, 2761, 0, 0, {}, 2761, {
        "created_at": "date", "author": "screen_name", "text": "text", "like_count": "favorite",
        "retweet_count": "retweet", "author_id": "ids"}),
    # 22,574 records (multi-line CRLF texts), no id column; no two rows share author, date and text
    "tweets/Tweets_Sentiment_Analysis_btc_tweets.csv": ("tweets-csv", 22574, 22574, 0, 0, {}, 22574,
                                                        {"created_at": "date", "author": "author", "text": "text"}),
    # 3,708 records after a blank-named pandas index column, 3,708 distinct ids
    "reddit/CryptoCurrency-Volatility_reddit_data.csv": ("reddit-csv", 3708, 3708, 0, 0, {}, 0, {
        "id": "id", "created_at": "created", "title": "title", "body": "Description", "score": "score",
        "num_comments": "No_Comments", "url": "url"}),
    # 4,671 records, no id column; no two rows share title and time
    "reddit/btc-price-predictor_reddit_posts.csv": ("reddit-csv", 4671, 4671, 0, 0, {}, 4671, {
        "created_at": "time", "title": "title", "score": "score", "num_comments": "num_comments"}),
    # 16,354 keys in the dict, each with an id
    "prices/crypto-cli_coingecko_coins_list_dict.json": ("coingecko-coins-list", 16354, 16354, 0, 0, {}, 0, {}),
    # 100 objects in `data`, 100 distinct ids
    "prices/Cryptosphere_coingecko_coins_markets_wrapped.json": ("coingecko-coins-markets", 100, 100, 0, 0, {}, 0, {}),
    # 1,827 daily points, distinct timestamps, the three arrays aligned; the coin from the file name
    "prices/Cryptocurrency_Analytics_coingecko_market_chart_bitcoin.json": ("coingecko-market-chart", 1827, 1827, 0, 0,
                                                                            {}, 0, {}),
    # 169 hourly points, distinct timestamps; the coin from the file name
    "prices/Cryptosphere_coingecko_market_chart_bitcoin_hourly.json": ("coingecko-market-chart", 169, 169, 0, 0, {}, 0, {}),
    # 32,181 records after one banner line; 29,532 distinct hours (2,649 twice); the coin from `BTC/USDT`
    "prices/crypto_data_Binance_BTCUSDT_1h.csv": ("ohlcv-csv", 32181, 29532, 2649, 0, {}, 0, {
        "timestamp": "unix", "price": "close", "volume": "Volume USDT", "symbol": "symbol"}),
    # 1,620 daily records, 1,620 distinct dates, 243 with volume `-`; the coin from the file name
    "prices/BAChallengeTeam3_bitcoin_price.csv": ("ohlcv-csv", 1620, 1377, 0, 243, {"bad_number": 243}, 0, {
        "timestamp": "Date", "price": "Close", "volume": "Volume", "market_cap": "Market Cap"}),
}


def test_every_shared_real_file_is_listed_here():
    """A file added to ../shared/data/real/{tweets,reddit,prices}/ must get its counts here too."""
    assert REAL.is_dir(), f"{REAL}: the shared real data is missing (the tests need ../shared/data/real beside the project)"
    on_disk = {str(p.relative_to(REAL)) for folder in ("tweets", "reddit", "prices") for p in (REAL / folder).iterdir()
               if p.name != "README.md"}
    assert on_disk == set(EXPECTED)


@pytest.fixture(scope="module")
def imported(tmp_path_factory) -> Callable[[str], tuple[Lake, ImportReport]]:
    """Each real file imported once, with `--format auto` and no other option, into a fresh lake of its own."""
    done: dict[str, tuple[Lake, ImportReport]] = {}

    def get(name: str) -> tuple[Lake, ImportReport]:
        if name not in done:
            lake = Lake(str(tmp_path_factory.mktemp("real") / "lake"))
            done[name] = (lake, import_file(lake, real(name), "prices" if name.startswith("prices/") else "posts"))
        return done[name]

    return get


@pytest.mark.parametrize("name", list(EXPECTED), ids=[n.split("/")[1] for n in EXPECTED])
def test_every_real_file_imports_in_a_fresh_lake_with_format_auto(imported, name):
    _, report = imported(name)
    assert report.detected
    assert (report.format, report.read, report.loaded, report.duplicates, report.quarantined, dict(report.reasons),
            report.derived_ids, report.mapping) == EXPECTED[name]  # fmt: skip
    assert report.read == report.loaded + report.duplicates + report.quarantined


def landed(lake: Lake, relpath: str) -> list[dict]:
    return [json.loads(line) for line in gzip.decompress(lake.read_bytes(relpath)).decode().splitlines()]


def test_real_texts_and_times_are_decoded(imported):
    lake, coindesk = imported("tweets/BAChallengeTeam3_coindesk_tweets.csv")
    by_id = {t["id"]: t for f in coindesk.landed for page in landed(lake, f) for t in page["data"]}
    assert by_id["938045662058483713"]["text"] == "Bloomberg \u2013 Bitcoin's Diverse Futures  https://t.co/3QU7e6oyoP by @davidfickling"
    assert by_id["938221181840138240"]["created_at"] == "2017-12-06T01:38:55.000Z"

    lake, mis = imported("tweets/MIS375_bitcoin_tweets.csv")
    tweets = [t for f in mis.landed for page in landed(lake, f) for t in page["data"]]
    # the first row: user 960862888897536001 (`ids`), 'Tue Apr 17 23:29:43 +0000 2018', a text over five lines
    (first,) = [t for t in tweets if t["author_id"] == "960862888897536001" and t["created_at"] == "2018-04-17T23:29:43.000Z"]
    assert first["text"].startswith("Long/Short Bitcoin moves with up to 100x Leverage at Bitmex! \U0001f4b0\U0001f389\n\nGet a 10%")
    assert any("column 'ids' repeats one value per 'screen_name' (2,041 of each)" in n for n in mis.notes)


def test_real_reddit_posts_keep_subreddit_and_time(imported):
    lake, report = imported("reddit/CryptoCurrency-Volatility_reddit_data.csv")
    children = [c["data"] for f in report.landed for listing in landed(lake, f) for c in listing["data"]["children"]]
    faq = next(c for c in children if c["name"] == "t3_1f7n947")
    assert (faq["title"], faq["subreddit"]) == ("Bitcoin Newcomers FAQ - Please read!", "Bitcoin")
    assert (faq["score"], faq["num_comments"]) == (33, 12)
    assert faq["selftext"].startswith("# Welcome to the /r/Bitcoin Newcomers FAQ\n\nYou've probably been hearing")


def test_real_ohlcv_lands_hourly_charts_without_market_caps(imported):
    lake, report = imported("prices/crypto_data_Binance_BTCUSDT_1h.csv")
    assert any("chosen from symbol 'BTC/USDT'" in n for n in report.notes)
    (chart,) = landed(lake, "raw/import/coingecko/market_chart/month=2017-08/bitcoin@crypto-data-binance-btcusdt-1h-csv.json.gz")
    assert set(chart) == {"prices", "total_volumes"}
    # the oldest row: '1502942400.0,2017-08-17 04-AM,BTC/USDT,16199.91,16199.91,4261.32,4308.83,44.51,190952.85'
    assert chart["prices"][0] == [1502942400000, 4308.83] and chart["total_volumes"][0] == [1502942400000, 190952.85]


def test_the_lakes_own_coin_list_overrides_the_catalog(tmp_path):
    """A fresh lake knows the catalog's 100 coins; once the real /coins/list is imported, its 16,354 coins count
    (a coin far outside the top 100, `dyor-labs`, becomes importable) and the landed catalog is removed."""
    lake = Lake(str(tmp_path / "lake"))
    chart = real("prices/Cryptosphere_coingecko_market_chart_bitcoin_hourly.json")
    assert import_file(lake, chart, "prices", coin="bitcoin").loaded == 169
    assert lake.exists(LANDED_LIST)
    with pytest.raises(ImportFileError, match=r"coin 'dyor-labs' is not in the bundled catalog \(100 largest coins"):
        import_file(lake, chart, "prices", coin="dyor-labs")
    listed = import_file(lake, real("prices/crypto-cli_coingecko_coins_list_dict.json"), "prices")
    assert not lake.exists(LANDED_LIST) and any("replaces the bundled catalog" in n for n in listed.notes)
    assert import_file(lake, chart, "prices", coin="dyor-labs").loaded == 169
    with pytest.raises(ImportFileError, match="coin 'not-a-coin' is not in any coins list in the lake"):
        import_file(lake, chart, "prices", coin="not-a-coin")
