"""Recognise what a CSV header's columns mean: case-, space- and punctuation-insensitive synonyms per importer field,
in tiers (a specific name beats a generic one: `created_at` before `date`); two columns in one tier are ambiguous."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A tier is a set of normalised names, or a pattern a normalised name must match whole.
Tier = frozenset[str] | re.Pattern[str]


def _tiers(*tiers: str | re.Pattern[str]) -> tuple[Tier, ...]:
    return tuple(t if isinstance(t, re.Pattern) else frozenset(t.split()) for t in tiers)


POST_COMMON = {
    "id": _tiers("id tweetid statusid idstr postid tweetidstr submissionid ids"),
    "created_at": _tiers(
        "createdat createdutc created createdtime createddate datecreated creationdate tweetcreatedat postedat "
        "publishedat postdate tweetdate",
        "timestamp datetime date time timestamputc utc unix unixtime published posted",
    ),
    "author": _tiers(
        "handle screenname userscreenname userhandle authorhandle twitterhandle",
        "author username user authorname authorusername postedby",
    ),
    "author_id": _tiers("authorid userid useridstr authorfullname"),
}
TWEET_FIELDS = {
    **POST_COMMON,
    "text": _tiers("fulltext rawcontent", "text tweet content body message tweettext posttext"),
    "like_count": _tiers("likecount likes likescount nlikes numlikes favoritecount favorites favorite favouritecount "
                         "favourites favourite hearts"),
    "retweet_count": _tiers("retweetcount retweets retweet retweetscount nretweets numretweets rts"),
    "reply_count": _tiers("replycount replies repliescount nreplies numreplies"),
    "quote_count": _tiers("quotecount quotes quotescount nquotes"),
    "lang": _tiers("lang language"),
}
REDDIT_FIELDS = {
    **POST_COMMON,
    "title": _tiers("title posttitle"),
    "body": _tiers("selftext", "body description text content posttext"),
    "score": _tiers("score ups upvotes"),
    "num_comments": _tiers("numcomments nocomments comments commsnum commentcount commentscount ncomments"),
    "channel": _tiers("subreddit subredditname channel community"),
    "url": _tiers("permalink", "url link posturl"),
}
PRICE_FIELDS = {
    "timestamp": _tiers("unix unixtimestamp unixtime unixms opentime timestampms",
                        "timestamp datetime date time day snappedat timeopen"),
    "price": _tiers("close price closeprice priceusd closeusd", "adjclose last lastprice"),
    "volume": _tiers("volumeusd volumeusdt volumeusdc volumebusd volumefdusd volumetusd quotevolume quoteassetvolume "
                     "totalvolume volumeto volumequote", "volume vol volume24h"),
    "volume_base": _tiers("basevolume volumebase volumefrom", re.compile(r"volume[a-z]{2,6}")),  # `Volume BTC`
    "market_cap": _tiers("marketcap marketcapusd mktcap marketcapitalization"),
    "symbol": _tiers("symbol pair ticker instrument coin asset"),
}
FIELDS_BY_SHAPE = {"x": TWEET_FIELDS, "reddit": REDDIT_FIELDS, "chart": PRICE_FIELDS}
# Each shape needs a column for one field of every group.
REQUIRED = {"x": (("created_at",), ("text",)), "reddit": (("created_at",), ("title", "body")), "chart": (("timestamp",), ("price",))}
# A field used only when its alternative has no column: a base-currency volume only when there is no USD volume.
FALLBACK_FOR = {"volume_base": "volume"}


def normalise(name: str) -> str:
    """`Created At`, `created_at`, ` CREATED-AT ` → `createdat`."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def is_index(name: str) -> bool:
    """A pandas index column: a blank name, or `Unnamed: 0`."""
    return not name.strip() or re.fullmatch(r"unnamed\d*", normalise(name)) is not None


def _matches(tier: Tier, name: str) -> bool:
    return tier.fullmatch(name) is not None if isinstance(tier, re.Pattern) else name in tier


@dataclass
class Recognised:
    """What a header means for one shape: field → column, fields with several equally good columns, unmet needs."""

    shape: str
    mapping: dict[str, str] = field(default_factory=dict)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)

    def map_line(self) -> str:
        """The `--map` option that states this mapping (the first candidate where a field is ambiguous)."""
        return "--map \"" + ",".join(f"{column}={name}" for name, column in self.mapping.items()) + '"'


def post_shape(columns: list[str]) -> str:
    """Posts with a title or a subreddit column are Reddit-like; others are tweets."""
    markers = (REDDIT_FIELDS["title"][0], REDDIT_FIELDS["channel"][0])
    return "reddit" if any(normalise(c) in tier for c in columns for tier in markers) else "x"


def recognise(columns: list[str], shape: str) -> Recognised:
    """Give each field of `shape` the column of the first tier that has one (each column feeds one field)."""
    usable = [c for c in columns if not is_index(c)]
    found = Recognised(shape)
    for name, tiers in FIELDS_BY_SHAPE[shape].items():
        if FALLBACK_FOR.get(name) in found.mapping:
            continue
        for tier in tiers:
            hits = [c for c in usable if _matches(tier, normalise(c)) and c not in found.mapping.values()]
            if hits:
                found.mapping[name] = hits[0]
                if len(hits) > 1:
                    found.ambiguous[name] = hits
                break
    found.missing = [" or ".join(group) for group in REQUIRED[shape] if not any(f in found.mapping for f in group)]
    return found
