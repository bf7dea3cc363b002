"""Score post texts: clean them for VADER, score each distinct cleaned text once, in parallel processes."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor

from cryptopulse.analysis.fastvader import FastVader, Scores
from cryptopulse.analysis.lexicon import reference_analyzer

RETWEET_PREFIX = re.compile(r"^RT @\w+:?\s*")
URL = re.compile(r"https?://\S+|www\.\S+")
MENTION = re.compile(r"@\w+")
CASHTAG = re.compile(r"\$[A-Za-z][A-Za-z0-9]{0,11}\b")
CASHTAG_WORD = "cashtag"  # a neutral, lower-case stand-in: '$SAFE' must not score as 'safe', nor count as shouting
BATCH = 4_000
PARALLEL_MIN = 20_000  # fewer distinct texts are scored in-process: starting workers would cost more


def without_retweet_prefix(text: str) -> str:
    """'RT @user: text' → 'text': a retweet scores as what it repeats (and shares its cache entry)."""
    return RETWEET_PREFIX.sub("", text, count=1) if text.startswith("RT @") else text


def clean(text: str) -> str:
    """The text VADER scores (after `without_retweet_prefix`): HTML entities decoded; URLs and @mentions removed;
    cashtags replaced by a neutral word; runs of white space made one space (VADER splits words on white
    space, so scores are unchanged, but more texts become identical); hashtags and emoji kept (both carry sentiment)."""
    # Each pattern runs only on texts holding its marker character: most posts hold none of them.
    if "&" in text:
        text = html.unescape(text)
    if "://" in text or "www." in text:
        text = URL.sub(" ", text)
    if "@" in text:
        text = MENTION.sub(" ", text)
    if "$" in text:
        text = CASHTAG.sub(CASHTAG_WORD, text)
    return " ".join(text.split())


def reference_scores(text: str) -> Scores:
    """vaderSentiment's own `polarity_scores` (crypto lexicon added) of the cleaned text."""
    s = reference_analyzer().polarity_scores(clean(without_retweet_prefix(text)))
    return s["compound"], s["pos"], s["neu"], s["neg"]


_scorer: FastVader | None = None


def _fast() -> FastVader:
    global _scorer
    if _scorer is None:
        _scorer = FastVader(reference_analyzer())
    return _scorer


def _score_batch(cleaned: list[str]) -> list[Scores]:
    score = _fast().scores
    return [score(t) for t in cleaned]


def score_texts(texts: Iterable[str], workers: int | None = None) -> tuple[list[Scores], int]:
    """Scores of each text, in order, and how many distinct cleaned texts were scored.

    Texts are cleaned once per distinct text, and identical cleaned texts (retweets without their prefix, spam, posts
    differing only by a link or a mention) are scored once; those are split in batches over `workers` processes
    (default: every core) when there are enough of them to pay for the start.
    """
    texts = [without_retweet_prefix(t) for t in texts]
    distinct = list(dict.fromkeys(texts))
    cleaned = [clean(t) for t in distinct]
    unique = list(dict.fromkeys(cleaned))
    workers = workers or os.cpu_count() or 1
    if workers > 1 and len(unique) >= PARALLEL_MIN:
        batches = [unique[i : i + BATCH] for i in range(0, len(unique), BATCH)]
        with ProcessPoolExecutor(workers) as pool:
            scored = [s for batch in pool.map(_score_batch, batches) for s in batch]
    else:
        scored = _score_batch(unique)
    by_cleaned = dict(zip(unique, scored))
    by_text = {t: by_cleaned[c] for t, c in zip(distinct, cleaned)}
    return [by_text[t] for t in texts], len(unique)
