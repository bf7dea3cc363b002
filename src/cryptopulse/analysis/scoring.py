"""Score post texts: clean them for VADER, score each distinct cleaned text once, in parallel processes."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat

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
BATCH_MIN = 500  # once the workers run, calls with this many texts per worker go to them
PARALLEL_MIN = 20_000  # fewer texts are cleaned or scored in-process: starting workers would cost more
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


def without_retweet_prefixes(texts: pa.Array) -> pa.Array:
    """`without_retweet_prefix` of each text; only the texts that start with 'RT @' go through Python."""
    is_retweet = pc.fill_null(pc.starts_with(texts, "RT @"), False)
    stripped = [RETWEET_PREFIX.sub("", t, count=1) for t in texts.filter(is_retweet).to_pylist()]
    return pc.replace_with_mask(texts, is_retweet, pa.array(stripped, texts.type))


def _clean_batch(texts: pa.Array) -> pa.Array:
    """`clean` of each text (run in a worker process)."""
    return pa.array([clean(t) for t in texts.to_pylist()], pa.large_string())


def _score_batch(cleaned: list[str]) -> np.ndarray:
    """FastVader's scores of each cleaned text, as rows (compound, pos, neu, neg) (run in a worker process)."""
    score = _fast().scores
    return np.array([score(t) for t in cleaned], dtype=np.float64).reshape(-1, 4)


class Scorer:
    """Scores texts as `score_texts` does, and keeps, from one call to the next, the scores of the cleaned texts
    it has seen (up to `cache_limit` of them) and its worker processes: `enrich` scores a month at a time, and
    retweets, spam and templates repeat across months. The parent process only de-duplicates (with Arrow) and
    looks texts up; the workers clean the distinct texts, then score the cleaned ones not seen before."""

    def __init__(self, workers: int | None = None, cache_limit: int = CACHE_LIMIT) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.cache_limit = cache_limit
        self.cache: dict[str, int] = {}  # cleaned text -> its row in self._scores
        self._scores = np.empty((0, 4), dtype=np.float64)
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
        raw, raw_codes = distinct_texts(texts)
        stripped, stripped_codes = distinct_texts(without_retweet_prefixes(raw))
        cleaned, cleaned_codes = distinct_texts(pa.chunked_array(self._map(_clean_batch, stripped), pa.large_string()))
        rows, scored = self._rows(cleaned.to_pylist())
        return self._scores[rows[cleaned_codes][stripped_codes][raw_codes]], scored

    def _rows(self, distinct: list[str]) -> tuple[np.ndarray, int]:
        """The row in `_scores` of each of the `distinct` cleaned texts (no two equal), scoring those not seen
        before; and how many that was."""
        rows = np.fromiter(map(self.cache.get, distinct, repeat(-1)), np.int64, len(distinct))
        new = [distinct[i] for i in np.flatnonzero(rows < 0)]
        if len(self.cache) + len(new) > self.cache_limit:  # keep only the texts of this call
            seen = np.flatnonzero(rows >= 0)
            self._scores = self._scores[rows[seen]]
            rows[seen] = np.arange(len(seen))
            self.cache = dict(zip([distinct[i] for i in seen], range(len(seen))))
        if new:
            rows[rows < 0] = np.arange(len(self._scores), len(self._scores) + len(new))
            self.cache.update(zip(new, range(len(self._scores), len(self._scores) + len(new))))
            self._scores = np.concatenate([self._scores, *self._map(_score_batch, new)])
        return rows, len(new)

    def _map(self, work: Callable, items: pa.Array | list[str]) -> list:
        """`work` on `items`: in batches over the worker processes when there are enough items to pay for them
        (the batches' results, in order), else here in one batch."""
        n = len(items)
        if self.workers == 1 or n < (PARALLEL_MIN if self._pool is None else self.workers * BATCH_MIN):
            return [work(items)]
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers)
        size = min(BATCH, -(-n // self.workers))  # every worker gets a share of a small call
        return list(self._pool.map(work, [_batch(items, i, size) for i in range(0, n, size)]))


def _batch(items: pa.Array | list[str], start: int, size: int) -> pa.Array | list[str]:
    """items[start : start + size], as a copy for an Arrow array (a pickled slice of one carries all its buffers)."""
    return pa.concat_arrays([items.slice(start, size)]) if isinstance(items, pa.Array) else items[start : start + size]


def distinct_texts(texts: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """The distinct texts, and the position of each text among them (Arrow's hashing, not one Python call per text)."""
    if isinstance(texts, pa.ChunkedArray):  # one array (large: no 2 GB limit), hashed at once
        texts = texts.cast(pa.large_string()).combine_chunks()
    encoded = pc.dictionary_encode(texts)
    return encoded.dictionary, encoded.indices.to_numpy()


def score_texts(texts: Iterable[str], workers: int | None = None) -> tuple[list[Scores], int]:
    """Scores of each text, in order, and how many distinct cleaned texts were scored.

    Texts are cleaned once per distinct text, and identical cleaned texts (retweets without their prefix, spam, posts
    differing only by a link or a mention) are scored once; both steps are split in batches over `workers` processes
    (default: every core) when there are enough texts to pay for the start.
    """
    with Scorer(workers) as scorer:
        scores, scored = scorer.score(pa.array(list(texts), pa.large_string()))
    return [tuple(s) for s in scores.tolist()], scored
