"""The pipeline on a hand-written raw zone: literal expected rows for grain, mentions and quarantine."""

from __future__ import annotations

import duckdb

from cryptopulse.pipeline import run


def rows(settings, sql: str) -> list[tuple]:
    con = duckdb.connect(settings.warehouse, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_post_naming_btc_and_eth_gives_exactly_two_bridge_rows(tiny):
    run(tiny)
    assert rows(tiny, "SELECT post_id, coin_id, mention_kind, mentions FROM bridge_post_coin WHERE post_id = '1' ORDER BY coin_id") == [
        ("1", "bitcoin", "cashtag", 1),
        ("1", "ethereum", "cashtag", 1),
    ]


def test_repeated_mentions_give_one_row_and_everyday_words_give_none(tiny):
    run(tiny)
    assert rows(tiny, "SELECT post_id, coin_id, mentions FROM bridge_post_coin ORDER BY post_id, coin_id") == [
        ("1", "bitcoin", 1),
        ("1", "ethereum", 1),
        ("2", "bitcoin", 1),  # '#bitcoin'; 'One more day' and 'Link in bio' are not coins
        ("3", "ethereum", 4),  # 'ethereum' twice, 'eth', '$eth': one row
        ("7", "harmony", 2),  # '$ONE' and '#one'; '$harmony' is not an alias
        ("8", "bitcoin", 1),  # 'bitcoin.' on its own; the 'bitcoin' inside 'Bitcoin Cash' is not bitcoin
        ("8", "bitcoin-cash", 2),
        ("9", "bitcoin-cash", 1),
    ]
    # post 5 ("sol y playa") names no coin
    assert rows(tiny, "SELECT count(*) FROM bridge_post_coin WHERE post_id = '5'") == [(0,)]


def test_non_unique_symbols_do_not_multiply_rows(tiny):
    run(tiny)
    # 'eth' is also the symbol of ethereum-wormhole; only the tracked coin gets the alias.
    assert rows(tiny, "SELECT coin_id FROM dim_coin_alias WHERE alias IN ('$eth', 'eth', '#eth')") == [("ethereum",)] * 3
    assert rows(tiny, "SELECT count(*), count(DISTINCT coin_id) FROM dim_coin") == [(5, 5)]


def test_each_malformed_record_is_quarantined_with_its_reason(tiny):
    run(tiny)
    assert rows(tiny, "SELECT dataset, reason, count(*) FROM quarantine GROUP BY ALL ORDER BY ALL") == [
        ("coin_hourly", "unknown_coin", 3),
        ("posts", "bad_timestamp", 1),
        ("posts", "empty_text", 1),
        ("posts", "missing_id", 1),
    ]
    (record,) = rows(tiny, "SELECT record FROM quarantine WHERE reason = 'bad_timestamp'")[0]
    assert '"created_at":"not-a-date"' in record


def test_last_point_of_an_hour_wins_and_hours_are_floored(tiny):
    run(tiny)
    # hour 2 of bitcoin had an earlier point (41999) and the regular one (42002)
    sql = "SELECT ts_hour::VARCHAR, price_usd, time_key FROM fct_coin_hourly WHERE coin_id = 'bitcoin' AND time_key = 2024010102"
    assert rows(tiny, sql) == [
        ("2024-01-01 02:00:00", 42002.0, 2024010102)
    ]
    assert rows(tiny, "SELECT count(*), count(DISTINCT (coin_id, time_key)) FROM fct_coin_hourly") == [(96, 96)]


def test_reconciliation_counts_every_received_record(tiny):
    report = run(tiny)
    posts = next(s for s in report.staged if s.dataset == "posts")
    assert (posts.received, posts.staged, posts.quarantined, posts.duplicates) == (11, 7, 3, 1)
    prices = next(s for s in report.staged if s.dataset == "coin_hourly")
    assert (prices.received, prices.staged, prices.quarantined, prices.duplicates) == (101, 96, 3, 2)
    assert [c for c in report.checks if c.name.startswith("reconciliation")] and not report.failures


def test_dim_time_has_one_row_per_hour_with_integer_keys(tiny):
    run(tiny)
    assert rows(tiny, "SELECT count(*), min(time_key), max(time_key), count(DISTINCT time_key) FROM dim_time") == [
        (48, 2024010100, 2024010223, 48)
    ]
    assert rows(tiny, "SELECT year, month, day, hour, iso_day_of_week, is_weekend FROM dim_time WHERE time_key = 2024010223") == [
        (2024, 1, 2, 23, 2, False)
    ]
