"""Synthetic X posts for one day, rendered as X API v2 search pages (one JSON page per line)."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from cryptopulse.sources.synthetic import vocab
from cryptopulse.sources.synthetic.catalog import Coin, Plan

MENTION_KINDS = ("cashtag", "cashtag_lower", "hashtag_name", "hashtag_symbol", "name", "name_lower")
KIND_WEIGHTS = np.array([0.35, 0.10, 0.15, 0.10, 0.20, 0.10])
# Coin names that are ordinary words: only ever written capitalised, never as a lowercase mention.
WORD_NAMES = frozenset({"Tether", "Avalanche", "Polygon", "Stellar", "Harmony", "Chainlink"})
POST_KINDS = ("original", "retweet", "ambiguous_only", "bot")
POST_MALFORMED_KINDS = ("post_missing_id", "post_bad_timestamp", "post_empty_text")

RT_RATE = 0.33  # a few candidates find no earlier post to retweet, so ~30 % end up retweets
RT_WINDOW_S = 3 * 3600
MULTI_RATE = 0.105  # ~10 % of all posts mention two or more coins once bots and noise are added
THIRD_RATE = 0.2
NEUTRAL_RATE = 0.35
POLARITY_GAIN = 1.5
NOISE_SHARE = 0.02
BOT_SHARE = 0.04
BOT_ACTIVE_DAYS = 0.8
URL_RATE = 0.12
AT_RATE = 0.08
PAGE_SIZE = 100
PAGES_PER_FILE = 400
GZIP_LEVEL = 6
REPEAT_PAGE_RATE = 2e-4
POST_MALFORMED_RATE = 1e-5
TWITTER_EPOCH_MS = 1_288_834_974_657
URL_POOL = 5_000
AT_POOL = 2_000

POST = (
    '{"id":"%s","text":"%s","created_at":"%s","author_id":"%s","lang":"%s","public_metrics":'
    '{"retweet_count":%d,"reply_count":%d,"like_count":%d,"quote_count":%d}}'
)
POST_NO_ID = POST.replace('"id":"%s",', "")
PAGE = '{"data":[%s],"includes":{"users":[%s]},"meta":{"result_count":%d%s}}'
_AMBIGUOUS = re.compile(rf"\b({'|'.join(vocab.AMBIGUOUS_WORDS)})\b")


def _esc(text: str) -> str:
    """`text` escaped for the inside of a JSON string (UTF-8 kept, as the X API sends it)."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


@dataclass(frozen=True)
class Authors:
    """The author population: JSON objects for includes.users, usernames, sampling weights, bots."""

    user_json: list[str]
    usernames: list[str]
    ids: list[str]
    cdf: np.ndarray  # over ordinary users only
    bot_users: np.ndarray  # indices into the lists above
    bot_texts: list[str]  # escaped spam text per bot
    bot_coins: list[int]


def build_authors(plan: Plan, coins: list[Coin], seed: int) -> Authors:
    """A heavy-tailed population of users (lognormal activity) plus 5-10 spam bots."""
    rng = np.random.default_rng([seed, 0, 4])
    n_users = int(np.clip(100_000 * plan.scale**0.75, 500, 500_000))
    ids = (100_000 + np.cumsum(rng.integers(1, 5_000, n_users))).tolist()
    first = rng.integers(0, len(vocab.USER_FIRST), n_users).tolist()
    second = rng.integers(0, len(vocab.USER_SECOND), n_users).tolist()
    names = [(vocab.USER_FIRST[a], vocab.USER_SECOND[b]) for a, b in zip(first, second)]
    usernames = [f"{a}_{b}{i}" for i, (a, b) in enumerate(names)]
    display = [f"{a.title()} {b.title()}" for a, b in names]
    weights = np.exp(rng.normal(0.0, 1.6, n_users))
    n_bots = int(rng.integers(5, 11))
    bot_ids = (1_600_000_000_000_000_000 + rng.integers(0, 10**17, n_bots)).tolist()
    bot_coins = rng.choice(min(len(coins), 12), n_bots).tolist()
    bot_texts = [_esc(vocab.BOT_TEXT.format(symbol=coins[c].symbol.upper(), code=_code(rng))) for c in bot_coins]
    ids += bot_ids
    usernames += list(vocab.BOT_NAMES[:n_bots])
    display += ["🎁 " + b.replace("_", " ").strip().title() for b in vocab.BOT_NAMES[:n_bots]]
    user_json = [f'{{"id":"{i}","username":"{u}","name":"{_esc(d)}"}}' for i, u, d in zip(ids, usernames, display)]
    return Authors(
        user_json=user_json,
        usernames=usernames,
        ids=[str(i) for i in ids],
        cdf=np.cumsum(weights) / weights.sum(),
        bot_users=np.arange(n_users, n_users + n_bots),
        bot_texts=bot_texts,
        bot_coins=bot_coins,
    )


def _code(rng: np.random.Generator) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), 10))


def mention_table(coins: list[Coin]) -> tuple[list[list[str]], np.ndarray]:
    """Per coin and mention kind: the text written, and the kind it really is after fallbacks.

    Symbols that are ordinary words (SOL, ONE, LINK, DOT, UNI) get no symbol hashtag and names that
    are ordinary words no lowercase form; those fall back to an upper-case cashtag.
    """
    texts, kinds = [], np.zeros((len(coins), len(MENTION_KINDS)), dtype=np.int64)
    for i, c in enumerate(coins):
        forms = [
            f"${c.symbol.upper()}",
            f"${c.symbol}",
            "#" + re.sub(r"[^a-z0-9]", "", c.name.lower()),
            f"#{c.symbol}",
            c.name,
            c.name.lower(),
        ]
        usable = [True, True, True, c.symbol not in vocab.AMBIGUOUS_WORDS, True, c.name not in WORD_NAMES]
        kinds[i] = [k if ok else 0 for k, ok in enumerate(usable)]
        texts.append([_esc(forms[k]) for k in kinds[i]])
    return texts, kinds


class _Fragments:
    """Escaped text pieces in flat tables, with offsets per polarity (0 negative, 1 neutral, 2 positive)."""

    def __init__(self) -> None:
        self.phrases, self.phrase_off, self.phrase_n = _flat((vocab.NEGATIVE, vocab.NEUTRAL, vocab.POSITIVE))
        self.emoji, self.emoji_off, self.emoji_n = _flat((vocab.NEGATIVE_EMOJI, vocab.NEUTRAL_EMOJI, vocab.POSITIVE_EMOJI))
        self.phrase_ambiguous = np.array([bool(_AMBIGUOUS.search(p)) for p in self.phrases])
        self.openers = [_esc(o) + " " if o else "" for o in vocab.OPENERS]
        self.hashtags = [_esc(h) for h in vocab.HASHTAG_TAILS]
        self.separators = [_esc(s) for s in vocab.SEPARATORS]
        self.noise = [_esc(t) for t, _ in vocab.NOISE]
        self.noise_lang = [lang for _, lang in vocab.NOISE]


def _flat(groups: tuple[tuple[str, ...], ...]) -> tuple[list[str], np.ndarray, np.ndarray]:
    flat = [_esc(x) for g in groups for x in g]
    sizes = np.array([len(g) for g in groups])
    return flat, np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes


@dataclass(frozen=True)
class PostContext:
    """Everything fixed for the whole run that a day's posts are drawn from."""

    seed: int
    authors: Authors
    mentions: list[list[str]]
    mention_kinds: np.ndarray
    popularity: np.ndarray
    pop_cdf: np.ndarray
    rate: float  # expected posts per coin-hour per unit of popularity when volume_factor is 1
    epoch_ms: int  # snowflake epoch: Twitter's, or the data's start when that is earlier (scale > ~90)
    noise_per_hour: float
    bot_per_hour: float
    urls: list[str]
    ats: list[str]
    fragments: _Fragments

    @classmethod
    def build(cls, plan: Plan, coins: list[Coin], seed: int) -> PostContext:
        authors = build_authors(plan, coins, seed)
        mentions, kinds = mention_table(coins)
        pop = np.array([c.popularity for c in coins])
        organic = plan.target_posts * (1 - NOISE_SHARE - BOT_SHARE)
        rng = np.random.default_rng([seed, 0, 5])
        top = np.argsort(-np.diff(authors.cdf, prepend=0.0), kind="stable")[:AT_POOL]
        return cls(
            seed=seed,
            authors=authors,
            mentions=mentions,
            mention_kinds=kinds,
            popularity=pop,
            pop_cdf=np.cumsum(pop) / pop.sum(),
            rate=organic / (plan.hours * pop.sum()),
            epoch_ms=min(TWITTER_EPOCH_MS, int(plan.start.timestamp()) * 1000),
            noise_per_hour=plan.target_posts * NOISE_SHARE / plan.hours,
            bot_per_hour=plan.target_posts * BOT_SHARE / (plan.days * len(authors.bot_users) * BOT_ACTIVE_DAYS * 2),
            urls=[""] + [f" https://t.co/{_code(rng)}" for _ in range(URL_POOL)],
            ats=[""] + [f" @{authors.usernames[i]}" for i in top.tolist()],
            fragments=_Fragments(),
        )


def volume_factor(abs_z: np.ndarray) -> np.ndarray:
    """How much busier an hour is with a large |return| (mean ~1 over ordinary hours)."""
    return 0.4 + 0.8 * abs_z


@dataclass
class PostStats:
    """What the post files hold, counted as they are written."""

    posts: int = 0  # distinct tweet objects written (malformed ones included, repeated copies not)
    pages: int = 0  # page lines, repeated ones included
    files: int = 0
    duplicate_posts: int = 0  # tweet objects in repeated page lines (each repeats an earlier id)
    malformed: Counter = field(default_factory=Counter)  # tweet objects per POST_MALFORMED_KINDS
    kinds: Counter = field(default_factory=Counter)  # tweet objects per POST_KINDS, plus multi_coin
    mentions: Counter = field(default_factory=Counter)  # mention occurrences per MENTION_KINDS
    ambiguous_bare_posts: int = 0  # non-empty texts using an ambiguous word bare (not a mention)


@dataclass
class _Posts:
    """Columns of some of a day's posts; `mention` holds up to 3 effective mention kinds (-1: none)."""

    sec: np.ndarray
    text: list[str]
    author: np.ndarray
    lang: list[str]
    kind: np.ndarray
    mention: np.ndarray
    ambiguous: np.ndarray

    def take(self, order: np.ndarray) -> _Posts:
        idx = order.tolist()
        return _Posts(
            self.sec[order],
            [self.text[i] for i in idx],
            self.author[order],
            [self.lang[i] for i in idx],
            self.kind[order],
            self.mention[order],
            self.ambiguous[order],
        )


def _concat(parts: list[_Posts]) -> _Posts:
    return _Posts(
        sec=np.concatenate([p.sec for p in parts]),
        text=[t for p in parts for t in p.text],
        author=np.concatenate([p.author for p in parts]),
        lang=[x for p in parts for x in p.lang],
        kind=np.concatenate([p.kind for p in parts]),
        mention=np.concatenate([p.mention for p in parts]),
        ambiguous=np.concatenate([p.ambiguous for p in parts]),
    )


def day_files(
    ctx: PostContext, index: int, start: datetime, sentiment: np.ndarray, abs_z: np.ndarray, stats: PostStats, force_malformed: bool = False
) -> list[tuple[str, bytes]]:
    """The post files (name, gzip bytes) of one day; `sentiment`, `abs_z` are (coins, 24) arrays."""
    rng = np.random.default_rng([ctx.seed, 3, index])
    day = _concat([_coin_posts(ctx, rng, sentiment, abs_z), _noise_posts(ctx, rng), _bot_posts(ctx, rng)])
    if len(day.sec) == 0:
        return []
    t_ms = day.sec * 1000 + rng.integers(0, 1000, len(day.sec))
    order = np.argsort(t_ms, kind="stable")
    day, t_ms = day.take(order), t_ms[order]
    day_ms = int(start.timestamp()) * 1000
    ids = ((day_ms + t_ms - ctx.epoch_ms) << 22) | np.arange(len(t_ms))
    created = _created_at(day_ms + t_ms)
    bad = _plant_malformed(rng, day, created, force_malformed)
    _count(stats, day, bad)
    posts = _render_posts(rng, ctx, day, ids, created, bad["post_missing_id"])
    lines, repeated = _pages(rng, ctx, day, ids, posts, bad, force_malformed)
    stats.pages += len(lines)
    stats.duplicate_posts += repeated
    date = start.strftime("%Y-%m-%d")
    files = []
    for k, chunk in enumerate(_file_chunks(lines)):
        data = ("\n".join(chunk) + "\n").encode()
        files.append((f"date={date}/part-{k:04d}.jsonl.gz", gzip.compress(data, GZIP_LEVEL, mtime=0)))
    stats.files += len(files)
    return files


def _coin_posts(ctx: PostContext, rng: np.random.Generator, sentiment: np.ndarray, abs_z: np.ndarray) -> _Posts:
    """Posts about coins: Poisson per coin-hour (busier when |return| is large), ~30 % retweets."""
    lam = ctx.rate * ctx.popularity[:, None] * volume_factor(abs_z)
    cell = np.repeat(np.arange(lam.size), rng.poisson(lam).ravel())
    coin, hour = cell // 24, cell % 24
    n = len(cell)
    sec = hour * 3600 + rng.integers(0, 3600, n)
    order = np.argsort(coin * 100_000 + sec, kind="stable")
    coin, hour, sec = coin[order], hour[order], sec[order]
    src = _retweet_sources(rng, coin * 100_000 + sec)
    author = _sample_authors(ctx, rng, n)
    original = np.flatnonzero(src < 0)
    text, mention, ambiguous = _compose(ctx, rng, coin[original], sentiment[coin[original], hour[original]])
    texts = [""] * n
    for i, t in zip(original.tolist(), text):
        texts[i] = t
    mentions = np.full((n, 3), -1)
    mentions[original] = mention
    ambig = np.zeros(n, dtype=bool)
    ambig[original] = ambiguous
    rts = np.flatnonzero(src >= 0)
    names = ctx.authors.usernames
    for i, s in zip(rts.tolist(), src[rts].tolist()):
        texts[i] = f"RT @{names[author[s]]}: {texts[s]}"
    mentions[rts], ambig[rts] = mentions[src[rts]], ambig[src[rts]]
    kind = np.where(src >= 0, POST_KINDS.index("retweet"), POST_KINDS.index("original"))
    return _Posts(sec, texts, author, ["en"] * n, kind, mentions, ambig)


def _retweet_sources(rng: np.random.Generator, key: np.ndarray) -> np.ndarray:
    """Per post (sorted by coin, then time) the original it retweets, or -1.

    A retweet copies an original about the same coin from the previous three hours; a candidate
    with no such original stays an original itself.
    """
    n = len(key)
    candidate = rng.random(n) < RT_RATE
    originals = np.flatnonzero(~candidate)
    rts = np.flatnonzero(candidate)
    hi = np.searchsorted(key[originals], key[rts], "left")
    lo = np.searchsorted(key[originals], key[rts] - RT_WINDOW_S, "left")
    pick = lo + (rng.random(len(rts)) * (hi - lo)).astype(np.int64)
    ok = hi > lo
    src = np.full(n, -1)
    src[rts[ok]] = originals[pick[ok]]
    return src


def _sample_authors(ctx: PostContext, rng: np.random.Generator, n: int) -> np.ndarray:
    cdf = ctx.authors.cdf
    return np.minimum(np.searchsorted(cdf, rng.random(n)), len(cdf) - 1)


def _compose(
    ctx: PostContext, rng: np.random.Generator, coin: np.ndarray, sentiment: np.ndarray
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Texts of original posts: mention(s), a phrase whose polarity follows latent sentiment, extras."""
    f, m = ctx.fragments, len(coin)
    neutral = rng.random(m) < NEUTRAL_RATE
    positive = rng.random(m) < 1.0 / (1.0 + np.exp(-POLARITY_GAIN * sentiment))
    polarity = np.where(neutral, 1, np.where(positive, 2, 0))
    phrase = f.phrase_off[polarity] + (rng.random(m) * f.phrase_n[polarity]).astype(np.int64)
    emoji = f.emoji_off[polarity] + (rng.random(m) * f.emoji_n[polarity]).astype(np.int64)
    opener = rng.integers(0, len(f.openers), m)
    hashtag = rng.integers(0, len(f.hashtags), m)
    url = np.where(rng.random(m) < URL_RATE, rng.integers(1, len(ctx.urls), m), 0)
    at = np.where(rng.random(m) < AT_RATE, rng.integers(1, len(ctx.ats), m), 0)
    mentioned, mention = _mentions(ctx, rng, coin)
    texts = [
        f"{f.openers[o]}{mm} {f.phrases[p]}{f.emoji[e]}{f.hashtags[h]}{ctx.urls[u]}{ctx.ats[a]}"
        for o, mm, p, e, h, u, a in zip(
            opener.tolist(), mentioned, phrase.tolist(), emoji.tolist(), hashtag.tolist(), url.tolist(), at.tolist()
        )
    ]
    return texts, mention, f.phrase_ambiguous[phrase]


def _mentions(ctx: PostContext, rng: np.random.Generator, coin: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The mention text of each post (one coin, ~10 % two or three) and the effective kinds (m, 3)."""
    m, n_coins = len(coin), len(ctx.popularity)
    kinds = rng.choice(len(MENTION_KINDS), size=(m, 3), p=KIND_WEIGHTS)
    others = np.searchsorted(ctx.pop_cdf, rng.random((m, 2)))
    others = np.minimum(others, n_coins - 1)
    second = np.where(others[:, 0] == coin, (others[:, 0] + 1) % n_coins, others[:, 0])
    third = others[:, 1]
    multi = rng.random(m) < MULTI_RATE
    with_third = multi & (rng.random(m) < THIRD_RATE) & (third != coin) & (third != second)
    sep = rng.integers(0, len(ctx.fragments.separators), m)
    table, eff = ctx.mentions, ctx.mention_kinds
    texts = [table[c][k] for c, k in zip(coin.tolist(), kinds[:, 0].tolist())]
    for i in np.flatnonzero(multi).tolist():
        texts[i] += ctx.fragments.separators[sep[i]] + table[second[i]][kinds[i, 1]]
        if with_third[i]:
            texts[i] += ", " + table[third[i]][kinds[i, 2]]
    mention = np.stack(
        [
            eff[coin, kinds[:, 0]],
            np.where(multi, eff[second, kinds[:, 1]], -1),
            np.where(with_third, eff[third, kinds[:, 2]], -1),
        ],
        axis=1,
    )
    return texts, mention


def _noise_posts(ctx: PostContext, rng: np.random.Generator) -> _Posts:
    """Ordinary sentences using ambiguous words bare (no coin mention at all)."""
    n = int(rng.poisson(ctx.noise_per_hour * 24))
    which = rng.integers(0, len(ctx.fragments.noise), n).tolist()
    return _Posts(
        sec=rng.integers(0, 86_400, n),
        text=[ctx.fragments.noise[w] for w in which],
        author=_sample_authors(ctx, rng, n),
        lang=[ctx.fragments.noise_lang[w] for w in which],
        kind=np.full(n, POST_KINDS.index("ambiguous_only")),
        mention=np.full((n, 3), -1),
        ambiguous=np.ones(n, dtype=bool),
    )


def _bot_posts(ctx: PostContext, rng: np.random.Generator) -> _Posts:
    """Spam bots: on most days a 1-3 hour campaign of identical airdrop posts, many per hour."""
    secs, bots = [], []
    for b in range(len(ctx.authors.bot_users)):
        active, first, length = rng.random() < BOT_ACTIVE_DAYS, int(rng.integers(0, 24)), int(rng.integers(1, 4))
        hours = np.arange(first, min(first + length, 24))
        counts = rng.poisson(ctx.bot_per_hour, len(hours)) * active
        hour = np.repeat(hours, counts)
        secs.append(hour * 3600 + rng.integers(0, 3600, len(hour)))
        bots.append(np.full(len(hour), b))
    bot = np.concatenate(bots)
    n = len(bot)
    mention = np.full((n, 3), -1)
    mention[:, 0] = MENTION_KINDS.index("cashtag")
    return _Posts(
        sec=np.concatenate(secs),
        text=[ctx.authors.bot_texts[b] for b in bot.tolist()],
        author=ctx.authors.bot_users[bot],
        lang=["en"] * n,
        kind=np.full(n, POST_KINDS.index("bot")),
        mention=mention,
        ambiguous=np.zeros(n, dtype=bool),
    )


def _created_at(ms: np.ndarray) -> list[str]:
    """X's created_at: ISO UTC with a `.000Z` suffix (X truncates to the second)."""
    return [s + ".000Z" for s in np.datetime_as_string(ms.astype("datetime64[ms]"), unit="s").tolist()]


def _plant_malformed(rng: np.random.Generator, day: _Posts, created: list[str], force: bool) -> dict[str, np.ndarray]:
    """Distinct posts to corrupt, per kind; bad timestamps and empty texts are applied here."""
    n = len(day.sec)
    counts = rng.poisson(POST_MALFORMED_RATE * n, len(POST_MALFORMED_KINDS)) + int(force)
    chosen = rng.choice(n, min(int(counts.sum()), n), replace=False)
    bad, at = {}, 0
    for kind, k in zip(POST_MALFORMED_KINDS, counts.tolist()):
        bad[kind], at = np.sort(chosen[at : at + k]), at + k
    for i in bad["post_bad_timestamp"].tolist():
        created[i] = vocab.BAD_TIMESTAMPS[int(rng.integers(0, len(vocab.BAD_TIMESTAMPS)))]
    for i in bad["post_empty_text"].tolist():
        day.text[i] = ""
    return bad


def _count(stats: PostStats, day: _Posts, bad: dict[str, np.ndarray]) -> None:
    """Add a day's posts to `stats`; mentions and ambiguity count only texts left non-empty."""
    stats.posts += len(day.sec)
    for kind, idx in bad.items():
        stats.malformed[kind] += len(idx)
    for k, c in enumerate(np.bincount(day.kind, minlength=len(POST_KINDS)).tolist()):
        stats.kinds[POST_KINDS[k]] += c
    has_text = np.ones(len(day.sec), dtype=bool)
    has_text[bad["post_empty_text"]] = False
    mentions = day.mention[has_text]
    stats.kinds["multi_coin"] += int((mentions[:, 1] >= 0).sum())
    for k, c in enumerate(np.bincount(mentions[mentions >= 0], minlength=len(MENTION_KINDS)).tolist()):
        stats.mentions[MENTION_KINDS[k]] += c
    stats.ambiguous_bare_posts += int(day.ambiguous[has_text].sum())


def _render_posts(
    rng: np.random.Generator, ctx: PostContext, day: _Posts, ids: np.ndarray, created: list[str], missing_id: np.ndarray
) -> list[str]:
    """Each post as a JSON object string; heavy-tailed public metrics (bots get none)."""
    n = len(ids)
    like = np.floor(np.exp(rng.normal(0.3, 1.6, n))).astype(np.int64) - 1
    like = np.where(day.kind == POST_KINDS.index("bot"), 0, np.maximum(like, 0))
    retweet = (like * rng.random(n) * 0.35).astype(np.int64)
    reply = rng.poisson(0.05 * like + 0.2)
    quote = rng.poisson(0.01 * like)
    id_text = [str(i) for i in ids.tolist()]
    author = [ctx.authors.ids[a] for a in day.author.tolist()]
    rows = zip(id_text, day.text, created, author, day.lang, retweet.tolist(), reply.tolist(), like.tolist(), quote.tolist())
    posts = [POST % row for row in rows]
    for i in missing_id.tolist():
        posts[i] = POST_NO_ID % (day.text[i], created[i], author[i], day.lang[i], retweet[i], reply[i], like[i], quote[i])
    return posts


def _pages(
    rng: np.random.Generator, ctx: PostContext, day: _Posts, ids: np.ndarray, posts: list[str], bad: dict[str, np.ndarray], force: bool
) -> tuple[list[tuple[str, bool]], int]:
    """Page lines newest first, each (line, is_repeat), and how many posts the repeated pages hold.

    A repeated page (a retried request) is written again right after itself; only pages without
    malformed posts are repeated, so malformed counts stay exact.
    """
    n = len(posts)
    has_id = np.ones(n, dtype=bool)
    has_id[bad["post_missing_id"]] = False
    is_bad = np.zeros(n, dtype=bool)
    for idx in bad.values():
        is_bad[idx] = True
    newest_first = np.arange(n - 1, -1, -1)
    starts = np.arange(0, n, PAGE_SIZE)
    clean = np.flatnonzero([not is_bad[newest_first[s : s + PAGE_SIZE]].any() for s in starts])
    n_repeat = min(int(rng.binomial(len(starts), REPEAT_PAGE_RATE)) + int(force), len(clean))
    repeat = set(rng.choice(clean, n_repeat, replace=False).tolist())
    lines, repeated = [], 0
    for p, s in enumerate(starts.tolist()):
        page = newest_first[s : s + PAGE_SIZE]
        line = _page_line(ctx, page, day.author, ids, posts, has_id, last=p == len(starts) - 1)
        lines.append((line, False))
        if p in repeat:
            lines.append((line, True))
            repeated += len(page)
    return lines, repeated


def _page_line(
    ctx: PostContext, page: np.ndarray, author: np.ndarray, ids: np.ndarray, posts: list[str], has_id: np.ndarray, last: bool
) -> str:
    """One search response: the posts, their authors once each, and meta with ids and a next token."""
    idx = page.tolist()
    users = ",".join(ctx.authors.user_json[a] for a in dict.fromkeys(author[page].tolist()))
    valid = ids[page[has_id[page]]]
    meta = ""
    if len(valid):
        meta = f',"newest_id":"{valid[0]}","oldest_id":"{valid[-1]}"'
        if not last:
            meta += f',"next_token":"b26v89c19zqg8o3f{int(valid[-1]) & 0xFFFFFFFFFF:x}"'
    return PAGE % (",".join(posts[i] for i in idx), users, len(idx), meta)


def _file_chunks(lines: list[tuple[str, bool]]) -> list[list[str]]:
    """Lines split into files of PAGES_PER_FILE pages, never separating a page from its repeat."""
    chunks: list[list[str]] = []
    originals = PAGES_PER_FILE
    for line, is_repeat in lines:
        if not is_repeat and originals == PAGES_PER_FILE:
            chunks.append([])
            originals = 0
        chunks[-1].append(line)
        originals += not is_repeat
    return chunks
