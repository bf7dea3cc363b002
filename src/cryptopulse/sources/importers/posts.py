"""Import posts: field rows → typed posts (messy values parsed, ids checked, duplicates counted) → X pages or Reddit
listings in `raw/import/{x,reddit}/posts/date=…/<file-slug>.jsonl.gz`, one line per day."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from cryptopulse.lake import Lake
from cryptopulse.sources.importers import land
from cryptopulse.sources.importers.detect import Parsed
from cryptopulse.sources.importers.messy import (
    clean_id,
    content_id,
    is_mangled_id,
    normalise_text,
    numeric_date_order,
    parse_count,
    parse_timestamp,
)
from cryptopulse.sources.importers.reading import Row
from cryptopulse.sources.importers.report import ImportReport

SUBREDDIT_IN_URL = re.compile(r"/r/([A-Za-z0-9_]+)")
METRICS = ("like_count", "retweet_count", "reply_count", "quote_count")


@dataclass
class Post:
    """A post as the importer understood it; `shape` decides whether it lands as a tweet or a Reddit link."""

    post_id: str
    created_at: dt.datetime
    text: str
    title: str
    body: str
    author: str | None
    author_id: str | None
    lang: str | None
    counts: dict[str, int | None]
    channel: str | None


def import_posts(lake: Lake, parsed: Parsed, report: ImportReport, dry_run: bool = False) -> None:
    """Type every row, count duplicates and rejects into `report`, and land the posts (replacing an earlier import)
    unless `dry_run`."""
    _ids_that_name_authors(parsed)
    dayfirst = _dayfirst(parsed.rows)
    seen: set[str] = set()
    by_day: dict[dt.date, list[Post]] = defaultdict(list)
    for row in parsed.rows:
        report.read += 1
        post = _post(row, parsed.shape, dayfirst, report)
        if post is None:
            continue
        if post.post_id in seen:
            report.duplicates += 1
            continue
        seen.add(post.post_id)
        by_day[post.created_at.date()].append(post)
        report.loaded += 1
        report.show(_preview(post))
    if report.derived_ids:
        report.notes.append(
            f"{report.derived_ids:,} post(s) had no usable id (missing, or destroyed by a spreadsheet like 1.00534E+18): "
            "each got a stable id derived from its text, time and author ('cid-…')"
        )
    if dry_run:
        return
    slug = land.file_slug(parsed.path)
    folder, render = (land.REDDIT_POSTS, _listing) if parsed.shape == "reddit" else (land.X_POSTS, _search_page)
    files = {f"{folder}/date={day}/{slug}.jsonl.gz": land.gz_jsonl([render(posts)]) for day, posts in sorted(by_day.items())}
    report.landed = land.replace_files(lake, slug, files)


def _ids_that_name_authors(parsed: Parsed) -> None:
    """A recognised id column whose values repeat, one value per author and one author per value, identifies the
    author, not the post (MIS375's `ids`): it becomes `author_id`, and the posts get derived ids."""
    mapping = parsed.mapping
    if not parsed.detected or "id" not in mapping or "author" not in mapping or "author_id" in mapping:
        return
    pairs = [(clean_id(r.values.get("id")), _text(r.values.get("author"))) for r in parsed.rows if r.problem is None]
    pairs = [(i, a) for i, a in pairs if i is not None]
    distinct = set(pairs)
    if len(distinct) == len(pairs) or not len(distinct) == len({i for i, _ in distinct}) == len({a for _, a in distinct}):
        return
    for row in parsed.rows:
        if row.problem is None:
            row.values["author_id"] = row.values.pop("id")
    mapping["author_id"] = mapping.pop("id")
    parsed.notes.append(
        f"column {mapping['author_id']!r} repeats one value per {mapping['author']!r} ({len(distinct):,} of each): "
        "it is the author's id, not the post's"
    )


def _preview(post: Post) -> dict[str, Any]:
    counts = {k: v for k, v in post.counts.items() if v is not None}
    return {"id": post.post_id, "created_at": _iso_z(post.created_at), "author": post.author, "text": post.text[:80],
            **({"channel": post.channel} if post.channel else {}), **counts}


def _dayfirst(rows: list[Row]) -> bool:
    """Whether `01-02-2018` means 1 February in this file: decided from its unambiguous dates, day-first otherwise."""
    values = [str(r.values.get("created_at") or "") for r in rows if r.problem is None]
    order = numeric_date_order(values)
    return True if order is None else order


def _post(row: Row, shape: str, dayfirst: bool, report: ImportReport) -> Post | None:
    if row.problem:
        report.reject(row, row.problem)
        return None
    v = row.values
    created_at = parse_timestamp(v.get("created_at"), dayfirst)
    if created_at is None:
        report.reject(row, "bad_timestamp", f"created_at {v.get('created_at')!r}")
        return None
    title, body = _text(v.get("title")), _text(v.get("body"))
    text = _text(v.get("text")) if shape == "x" or "text" in v else "\n\n".join(t for t in (title, body) if t)
    if shape == "reddit" and not title and "text" in v:
        title = text
    if not text:
        report.reject(row, "empty_text")
        return None
    author = _text(v.get("author")) or None
    author_id = clean_id(v.get("author_id"))
    return Post(
        post_id=_post_id(v, shape, text, created_at, author or author_id, report),
        created_at=created_at,
        text=text,
        title=title,
        body=body,
        author=author,
        author_id=author_id,
        lang=_text(v.get("lang")) or None,
        counts={k: parse_count(v.get(k)) for k in (*METRICS, "score", "num_comments")},
        channel=_text(v.get("channel")) or _subreddit(v.get("url")),
    )


def _text(value: Any) -> str:
    return normalise_text(value) if isinstance(value, str) else ("" if value is None else str(value))


def _post_id(v: dict[str, Any], shape: str, text: str, created_at: dt.datetime, author: str | None, report: ImportReport) -> str:
    """The file's id when it is a usable key; otherwise a content id (and the report counts it)."""
    raw = clean_id(v.get("id"))
    if raw is None or is_mangled_id(raw):
        report.derived_ids += 1
        return content_id(text, created_at.isoformat(), author)
    if shape == "reddit" and not raw.startswith("t3_"):
        return f"t3_{raw}"
    return raw


def _subreddit(url: Any) -> str | None:
    m = SUBREDDIT_IN_URL.search(url) if isinstance(url, str) else None
    return m.group(1) if m else None


def _iso_z(ts: dt.datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _search_page(posts: list[Post]) -> dict[str, Any]:
    """An X API v2 search page: tweets, and the authors in `includes.users` (a name without an id is its own id)."""
    tweets, users = [], {}
    for p in posts:
        author_id = p.author_id or p.author
        tweets.append({
            "id": p.post_id, "text": p.text, "created_at": _iso_z(p.created_at), "author_id": author_id, "lang": p.lang,
            "public_metrics": {k: p.counts[k] for k in METRICS},
        })  # fmt: skip
        if author_id is not None:
            users.setdefault(author_id, {"id": author_id, "username": p.author or author_id, "name": p.author or author_id})
    return {"data": tweets, "includes": {"users": list(users.values())}, "meta": {"result_count": len(tweets)}}


def _listing(posts: list[Post]) -> dict[str, Any]:
    """A Reddit `/r/{sub}/new` Listing of `t3` links."""
    children = [
        {"kind": "t3", "data": {
            "name": p.post_id, "title": p.title, "selftext": p.body, "author": p.author, "author_fullname": p.author_id,
            "created_utc": p.created_at.timestamp(), "score": p.counts["score"], "num_comments": p.counts["num_comments"],
            "subreddit": p.channel,
        }}
        for p in posts
    ]  # fmt: skip
    return {"kind": "Listing", "data": {"after": None, "children": children}}
