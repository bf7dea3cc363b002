"""Score post texts: clean them for VADER, score each distinct cleaned text once, in parallel processes."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cryptopulse.analysis.fastvader import FastVader, Scores
from cryptopulse.analysis.lexicon import reference_analyzer

RETWEET_PREFIX = re.compile(r"^RT @\w+:?\s*")
URL = re.compile(r"https?://\S+|www\.\S+")
MENTION = re.compile(r"@\w+")
CASHTAG = re.compile(r"\$[A-Za-z][A-Za-z0-9]{0,11}\b")
CASHTAG_WORD = "cashtag"  # a neutral, lower-case stand-in: '$SAFE' must not score as 'safe', nor count as shouting
BATCH = 4_000
BATCH_MIN = 500  # once the workers run, calls with this many distinct texts per worker go to them
PARALLEL_MIN = 20_000  # fewer distinct texts are scored in-process: starting workers would cost more
CACHE_LIMIT = 1_000_000  # cleaned texts whose scores a Scorer keeps between calls (~300 MB)


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


class Scorer:
    """Scores texts as `score_texts` does, and keeps, from one call to the next, the scores of the cleaned texts
    it has seen (up to `cache_limit` of them) and its worker processes: `enrich` scores a month at a time, and
    retweets, spam and templates repeat across months."""

    def __init__(self, workers: int | None = None, cache_limit: int = CACHE_LIMIT) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.cache_limit = cache_limit
        self.cache: dict[str, Scores] = {}
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Scorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def score(self, texts: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, int]:
        """Scores of each text, in order, as rows (compound, pos, neu, neg), and how many distinct cleaned texts
        were scored (texts that clean to one already seen are not scored again)."""
        raw, codes = distinct_texts(texts)
        scores, scored = self.scores_of(raw)
        return np.array(scores, dtype=np.float64).reshape(-1, 4)[codes], scored

    def scores_of(self, distinct: list[str]) -> tuple[list[Scores], int]:
        """Scores of each of `distinct` (no two equal), and how many cleaned texts were scored for them."""
        positions: dict[str, int] = {}  # distinct text without its retweet prefix -> its position
        stripped = [positions.setdefault(without_retweet_prefix(t), len(positions)) for t in distinct]
        cleaned = [clean(t) for t in positions]
        new = [c for c in dict.fromkeys(cleaned) if c not in self.cache]
        if len(self.cache) + len(new) > self.cache_limit:
            self.cache = {c: self.cache[c] for c in cleaned if c in self.cache}
        self.cache.update(zip(new, self._score_new(new)))
        by_position = [self.cache[c] for c in cleaned]
        return [by_position[i] for i in stripped], len(new)

    def _score_new(self, unique: list[str]) -> list[Scores]:
        """FastVader scores of `unique`, in batches over the worker processes when there are enough texts."""
        if self.workers == 1 or len(unique) < (PARALLEL_MIN if self._pool is None else self.workers * BATCH_MIN):
            return _score_batch(unique)
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers)
        size = min(BATCH, -(-len(unique) // self.workers))  # every worker gets a share of a small call
        batches = [unique[i : i + size] for i in range(0, len(unique), size)]
        return [s for batch in self._pool.map(_score_batch, batches) for s in batch]


def distinct_texts(texts: pa.Array | pa.ChunkedArray) -> tuple[list[str], np.ndarray]:
    """The distinct texts, and the position of each text among them (Arrow's hashing, not one Python call per text)."""
    if isinstance(texts, pa.ChunkedArray):  # one array (large: no 2 GB limit), hashed at once
        texts = texts.cast(pa.large_string()).combine_chunks()
    encoded = pc.dictionary_encode(texts)
    return encoded.dictionary.to_pylist(), encoded.indices.to_numpy()


def score_texts(texts: Iterable[str], workers: int | None = None) -> tuple[list[Scores], int]:
    """Scores of each text, in order, and how many distinct cleaned texts were scored.

    Texts are cleaned once per distinct text, and identical cleaned texts (retweets without their prefix, spam, posts
    differing only by a link or a mention) are scored once; those are split in batches over `workers` processes
    (default: every core) when there are enough of them to pay for the start.
    """
    positions: dict[str, int] = {}
    codes = [positions.setdefault(t, len(positions)) for t in texts]
    with Scorer(workers) as scorer:
        scores, scored = scorer.scores_of(list(positions))
    return [scores[i] for i in codes], scored
