"""Sentiment scores: equal to vaderSentiment (same lexicon) on every text of the corpus; the crypto words' effect."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from cryptopulse.analysis.fastvader import FastVader
from cryptopulse.analysis.lexicon import CRYPTO_WORDS, reference_analyzer
from cryptopulse.analysis.scoring import Scorer, clean, score_texts, without_retweet_prefix
from cryptopulse.sources.synthetic import vocab
from realdata import real

TWEETS = ("BAChallengeTeam3_Bitcoin_tweets.csv", "BAChallengeTeam3_coindesk_tweets.csv", "MIS375_bitcoin_tweets.csv",
          "Tweets_Sentiment_Analysis_btc_tweets.csv", "coinberghackathon_Bitcoin_tweets.csv")
REDDIT = ("CryptoCurrency-Volatility_reddit_data.csv", "btc-price-predictor_reddit_posts.csv")


@cache
def corpus() -> tuple[str, ...]:
    """Every tweet of the shared real samples, Reddit titles, and the synthetic generator's phrases."""
    texts: list[str] = []
    for name in TWEETS:
        frame = pd.read_csv(real(f"tweets/{name}"), dtype=str, keep_default_na=False)
        texts += frame[next(c for c in frame.columns if c.strip() == "text")].tolist()
    for name in REDDIT:
        texts += pd.read_csv(real(f"reddit/{name}"), dtype=str, keep_default_na=False)["title"].tolist()
    texts += [f"$BTC {p}{e}" for p in vocab.POSITIVE + vocab.NEGATIVE + vocab.NEUTRAL for e in vocab.POSITIVE_EMOJI + vocab.NEGATIVE_EMOJI]
    texts += [t for t, _ in vocab.NOISE] + [vocab.BOT_TEXT.format(symbol="ETH", code="abc123XYZ0")]
    return tuple(texts)


def vader(text: str, analyzer: SentimentIntensityAnalyzer) -> tuple[float, float, float, float]:
    s = analyzer.polarity_scores(text)
    return s["compound"], s["pos"], s["neu"], s["neg"]


def extended() -> SentimentIntensityAnalyzer:
    """A fresh vaderSentiment analyzer with the documented crypto words, built here, not by the code under test."""
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update({w: v for w, (v, _) in CRYPTO_WORDS.items()})
    return analyzer


@cache
def reference_scores(text: str) -> tuple[float, float, float, float]:
    """vaderSentiment's scores of `text` with the crypto words (a function of the text alone: the corpus repeats texts)."""
    return vader(text, _extended_once())


@cache
def _extended_once() -> SentimentIntensityAnalyzer:
    return extended()


def test_the_corpus_includes_every_real_tweet():
    assert sum(1 for _ in corpus()) > 35_000  # 35,028 tweets in the five files, plus Reddit titles and phrases


def test_fast_scorer_equals_vadersentiment_on_every_text_of_the_corpus():
    fast = FastVader(reference_analyzer())
    texts = corpus()
    assert [fast.scores(t) for t in texts] == [reference_scores(t) for t in texts]
    cleaned = [clean(without_retweet_prefix(t)) for t in texts]
    assert [fast.scores(t) for t in cleaned] == [reference_scores(t) for t in cleaned]


def test_score_texts_in_parallel_equals_vadersentiment_on_the_cleaned_corpus():
    texts = list(corpus())
    scores, distinct = score_texts(texts, workers=2)  # > 20,000 distinct texts: the process pool runs
    assert scores == [reference_scores(clean(without_retweet_prefix(t))) for t in texts]
    assert distinct == len({clean(without_retweet_prefix(t)) for t in texts}) < len(set(map(without_retweet_prefix, texts)))


def test_a_scorer_with_worker_processes_scores_each_call_as_vadersentiment_and_new_texts_only():
    texts = list(corpus())
    later = texts[::2] + [f"{t} gm" for t in texts[:3_000]]  # half seen before, 3,000 new (the workers score them)
    with Scorer(workers=2) as scorer:
        first, _ = scorer.score(pa.array(texts))  # > 20,000 distinct texts: the workers start
        second, scored = scorer.score(pa.chunked_array([later[:5_000], later[5_000:]]))
    assert [tuple(s) for s in first.tolist()] == [reference_scores(clean(without_retweet_prefix(t))) for t in texts]
    assert [tuple(s) for s in second.tolist()] == [reference_scores(clean(without_retweet_prefix(t))) for t in later]
    seen = {clean(without_retweet_prefix(t)) for t in texts}
    assert scored == len({clean(without_retweet_prefix(t)) for t in later} - seen) > 1_000


def test_identical_texts_and_retweets_are_scored_once():
    scores, distinct = score_texts(
        ["$BTC to the moon", "RT @alice: $BTC to the moon", "$BTC to the moon", "rekt", "$ETH to the moon https://t.co/x @bob"], workers=1
    )
    assert distinct == 2  # '$ETH … link @bob' cleans to the same text as '$BTC to the moon'
    assert scores[0] == scores[1] == scores[2] == scores[4] != scores[3]


@pytest.mark.parametrize(
    ("text", "plain_vader", "with_crypto_words"),
    [
        ("BTC to the moon", "neutral", "positive"),
        ("got rekted, total rug", "neutral", "negative"),
        ("so bullish on $ETH, new ATH soon", "neutral", "positive"),
        ("bearish, this is a rugpull", "neutral", "negative"),
    ],
)
def test_crypto_words_change_the_verdict(text, plain_vader, with_crypto_words):
    def verdict(compound: float) -> str:
        return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"

    assert verdict(vader(text, SentimentIntensityAnalyzer())[0]) == plain_vader
    assert verdict(score_texts([text], workers=1)[0][0][0]) == with_crypto_words


def test_cleaning_drops_urls_mentions_and_retweet_prefix_and_neutralises_cashtags():
    assert clean(without_retweet_prefix("RT @happy_guy: $SAFE &amp; @love https://t.co/abc up")).split() == ["cashtag", "&", "up"]
    # '$SAFE' must not read as the positive word 'safe', nor as a shouted word
    assert score_texts(["$SAFE"], workers=1)[0][0][0] == 0.0
    assert score_texts(["SAFE"], workers=1)[0][0][0] > 0


def test_emoji_are_kept_and_scored():
    assert score_texts(["$BTC 😭"], workers=1)[0][0][0] < 0  # 'loudly crying face'
    assert score_texts(["$BTC 😍"], workers=1)[0][0][0] > 0  # 'smiling face with heart-eyes'


def test_docs_list_every_crypto_word_with_its_valence():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "SENTIMENT.md").read_text()
    rows = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 4 and cells[0] in CRYPTO_WORDS:
            rows[cells[0]] = float(cells[1].replace("−", "-"))
    assert rows == {w: v for w, (v, _) in CRYPTO_WORDS.items()}


@pytest.mark.parametrize("cache_limit", [1_000_000, 10])
def test_a_scorer_keeps_its_scores_between_calls_and_scores_each_cleaned_text_once(cache_limit):
    texts = list(corpus()[:3_000])
    reference = extended()
    expected = [vader(clean(without_retweet_prefix(t)), reference) for t in texts]
    with Scorer(workers=1, cache_limit=cache_limit) as scorer:
        first, scored_first = scorer.score(pa.array(texts[:2_000]))
        second, scored_second = scorer.score(pa.chunked_array([texts[1_000:2_500], texts[2_500:]]))  # as enrich passes them
    assert [tuple(s) for s in first.tolist()] == expected[:2_000]
    assert [tuple(s) for s in second.tolist()] == expected[1_000:]
    cleaned = [clean(without_retweet_prefix(t)) for t in texts]
    assert scored_first == len(set(cleaned[:2_000]))
    assert scored_second == len(set(cleaned[1_000:]) - set(cleaned[:2_000])) < len(set(cleaned[1_000:]))  # no text twice
    # a cache over its limit keeps only the texts of the call at hand
    assert len(scorer.cache) == len(set(cleaned) if cache_limit > len(texts) else set(cleaned[1_000:]))
