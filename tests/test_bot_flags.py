"""Bot and spam flags: literal cases, the real retweet storms, and the synthetic generator's planted bots."""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from cryptopulse.analysis.enrich import enrich
from cryptopulse.analysis.flags import NORMALIZED_SQL, flag_posts, normalize
from cryptopulse.lake import Lake
from realdata import real


def posts(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["text", "author_id", "created_at"])


def test_the_same_text_from_ten_accounts_within_two_hours_is_a_copy_storm_and_from_nine_is_not():
    storm = [(f"RT @promo{i % 2}: Join the pool https://t.co/{i}", f"a{i}", f"2024-01-01 {10 + i % 2}:05:00") for i in range(10)]
    calm = [("gm frens, nice chart today", f"b{i}", "2024-01-01 10:10:00") for i in range(9)]
    spread = [("same words, other hours", f"c{i}", f"2024-01-01 {2 * i:02d}:00:00") for i in range(12)]
    flags = flag_posts(posts(storm + calm + spread))
    assert flags["is_copy_storm"].tolist() == [True] * 10 + [False] * 9 + [False] * 12
    assert not flags["is_spam_pattern"].any() and not flags["is_high_rate"].any()


def test_more_than_ten_posts_an_hour_from_one_account_are_flagged_for_that_hour():
    busy = [(f"post {i}", "bot", f"2024-01-01 10:{i:02d}:00") for i in range(11)]
    next_hour = [(f"post {i}", "bot", f"2024-01-01 11:{i:02d}:00") for i in range(10)]
    flags = flag_posts(posts(busy + next_hour))
    assert flags["is_high_rate"].tolist() == [True] * 11 + [False] * 10


def test_giveaway_airdrop_and_shill_patterns():
    texts = [
        "🚀 FREE $ETH AIRDROP 🚀 Claim now before it ends! 🎁 https://t.co/x",
        "$30 Giveaway! Follow & Retweet, 3 lucky winners",
        "DM me for promo, 100x gems",
        "Use my referral link for a bonus",
        "bitcoin looks strong today",
        "link in bio for the full analysis",
    ]
    flags = flag_posts(posts([(t, f"u{i}", "2024-01-01 10:00:00") for i, t in enumerate(texts)]))
    assert flags["is_spam_pattern"].tolist() == [True, True, True, True, False, False]


def test_normalized_text_ignores_retweet_prefix_urls_mentions_case_and_punctuation():
    assert normalize("RT @bob: Hello &amp; $BTC!! https://t.co/x @carol") == normalize("hello & $btc") == "hello $btc"


def test_copies_add_the_busier_neighbouring_hour_of_the_same_day_only():
    def storm(hours: list[tuple[str, int]]) -> list[bool]:  # (hour of the day, accounts posting the text in it)
        rows = [("wen moon", f"{hour}-{i}", f"{hour}:30:00") for hour, accounts in hours for i in range(accounts)]
        return flag_posts(posts(rows))["is_copy_storm"].tolist()

    # 11:00 has 5 + the busier of 10:00 (4) and 12:00 (5) = 10; 10:00 has 4 + 5 = 9; 12:00 has 5 + 5 = 10
    assert storm([("2024-01-01 10", 4), ("2024-01-01 11", 5), ("2024-01-01 12", 5)]) == [False] * 4 + [True] * 10
    assert not any(storm([("2024-01-01 10", 3), ("2024-01-01 11", 4), ("2024-01-01 12", 3)]))  # 4 + 3, not 4 + 3 + 3
    assert not any(storm([("2024-01-01 10", 5), ("2024-01-01 12", 5)]))  # an hour between: not neighbours
    # neighbours across midnight do not add up (each day holds ten copies, none within two hours)
    assert not any(storm([("2024-01-01 05", 5), ("2024-01-01 23", 5), ("2024-01-02 00", 5), ("2024-01-02 06", 5)]))
    assert storm([("2024-01-01 05", 5), ("2024-01-01 22", 5), ("2024-01-01 23", 5)]) == [False] * 5 + [True] * 10


# What NORMALIZED_SQL stands for, step by step: the retweet prefix removed; lower case; URLs and @mentions made a space;
# '&amp;' made '&'; each run of characters other than word characters, '$' and '#' made one space; trimmed.
FOUR_STEPS = (
    r"trim(regexp_replace(regexp_replace(regexp_replace(lower(regexp_replace(text, '^RT @\w+:?\s*', '')), "
    r"'https?://\S+|www\.\S+|@\w+', ' ', 'g'), '&amp;', '&', 'g'), '[^\w$#]+', ' ', 'g'))"
)
EDGES = ["https://t.co/r7oKt6R1Gg", "https://t.co/x, https://t.co/y!", "see https://t.co/x", "RT @bob: hi @carol, &amp;amp; bye",
         "  two  spaces\tand\ttabs \n", "a&amp;b&&amp;c", "@ alone @", "wwwx www.site.io/x?a=1&amp;b 🚀🚀 $BTC #eth", "", " ",
         "RT @bob", "KELVIN \u212a and \u0130stanbul, caf\u00e9 \u00a0nbsp\x0bvt", "x@y.z", "end with link http://a.b"]


def test_the_normalized_text_is_the_four_steps_it_stands_for_on_every_real_tweet_and_edge_case():
    texts = EDGES + [t for name in ("Tweets_Sentiment_Analysis_btc_tweets.csv", "BAChallengeTeam3_coindesk_tweets.csv")
                     for t in pd.read_csv(real(f"tweets/{name}"), dtype=str, keep_default_na=False)["text"]]
    con = duckdb.connect()
    try:
        con.register("texts", pd.DataFrame({"text": texts}))
        rows = con.execute(f"SELECT text, {NORMALIZED_SQL}, {FOUR_STEPS} FROM texts").fetchall()
    finally:
        con.close()
    assert len(rows) > 25_000
    assert [(t, one) for t, one, _ in rows] == [(t, steps) for t, _, steps in rows]


def test_every_retweet_storm_in_the_real_btc_tweets_is_flagged():
    tweets = pd.read_csv(real("tweets/Tweets_Sentiment_Analysis_btc_tweets.csv"), dtype=str, keep_default_na=False)
    tweets = tweets.rename(columns={"author": "author_id", "date": "created_at"})
    flags = flag_posts(tweets)
    # storms counted independently of the code under test: one exact text from 20 or more accounts
    authors = tweets.groupby("text")["author_id"].transform("nunique")
    storm = authors >= 20
    assert storm.sum() > 5_000  # the file is one hour of a stream dominated by a few giveaway retweets
    assert flags.loc[storm, "is_copy_storm"].all()
    flagged = flags.any(axis=1)
    assert 0.3 < flagged.mean() < 0.7  # what is reported in docs/SENTIMENT.md


def test_planted_bots_are_caught_with_precision_and_recall_of_at_least_095(small_built_copy):
    small = small_built_copy
    report = enrich(small, workers=1, publish=False)
    bots = json.loads(Lake(small.lake).read_bytes("raw/synthetic/manifest.json"))["bots"]
    con = duckdb.connect(small.warehouse, read_only=True)
    try:
        is_bot, flagged = zip(*con.execute(
            "SELECT p.author_id IN (SELECT unnest(?)), s.is_flagged FROM fct_post AS p "
            "JOIN fct_post_sentiment AS s USING (source, post_id)", [bots]
        ).fetchall())
    finally:
        con.close()
    caught = sum(b and f for b, f in zip(is_bot, flagged))
    assert sum(is_bot) > 100
    assert caught / sum(flagged) >= 0.95  # precision
    assert caught / sum(is_bot) >= 0.95  # recall
    assert report.flagged_posts == sum(flagged)
