"""Land an import in `raw/import/`: one file per day/month named after the source file, replaced on re-import."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

from cryptopulse.lake import Lake

ROOT = "raw/import"
X_POSTS = f"{ROOT}/x/posts"
REDDIT_POSTS = f"{ROOT}/reddit/posts"
CHARTS = f"{ROOT}/coingecko/market_chart"
COINS_LIST = f"{ROOT}/coingecko/coins_list.json"
COINS_MARKETS = f"{ROOT}/coingecko/coins_markets.json"
QUARANTINE = f"{ROOT}/_quarantine"


def file_slug(path: str | Path) -> str:
    """`Bitcoin tweets (1).csv` → `bitcoin-tweets-1-csv`: the same file name always lands at the same paths."""
    slug = re.sub(r"[^a-z0-9]+", "-", Path(path).name.lower()).strip("-")
    return slug or "file"


def own_files(lake: Lake, slug: str) -> set[str]:
    """Every raw file an earlier import of the file `slug` landed (so a re-import can replace them)."""
    patterns = (f"{X_POSTS}/date=*/{slug}.jsonl.gz", f"{REDDIT_POSTS}/date=*/{slug}.jsonl.gz", f"{CHARTS}/month=*/*@{slug}.json.gz")
    return {f for p in patterns for f in lake.glob(p)}


def gz_json(obj: Any) -> bytes:
    return gzip.compress(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode(), compresslevel=6, mtime=0)


def gz_jsonl(objs: list[Any]) -> bytes:
    lines = "".join(json.dumps(o, ensure_ascii=False, separators=(",", ":"), default=str) + "\n" for o in objs)
    return gzip.compress(lines.encode(), compresslevel=6, mtime=0)


def replace_files(lake: Lake, slug: str, files: dict[str, bytes]) -> list[str]:
    """Write `files` (relpath → bytes, each atomically), then remove what an earlier import of `slug` landed elsewhere."""
    stale = own_files(lake, slug) - set(files)
    for relpath, data in sorted(files.items()):
        lake.write_bytes(relpath, data)
    for relpath in sorted(stale):
        lake.remove(relpath)
    return sorted(files)


def write_quarantine(lake: Lake, slug: str, rejected: list[dict[str, Any]]) -> str | None:
    """Rejected rows (row, reason, record) to `raw/import/_quarantine/<slug>.jsonl.gz`; no rejects → no file."""
    relpath = f"{QUARANTINE}/{slug}.jsonl.gz"
    if not rejected:
        lake.remove(relpath)
        return None
    lake.write_bytes(relpath, gz_jsonl(rejected))
    return relpath
