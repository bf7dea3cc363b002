"""Pick the format of a file (`--format auto`: a JSON preset by its shape, a CSV by what its columns mean) and turn it
into rows of importer fields."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptopulse.sources.importers import jsonshapes
from cryptopulse.sources.importers.columns import post_shape, recognise
from cryptopulse.sources.importers.errors import ImportFileError
from cryptopulse.sources.importers.presets import CSV_FORMATS, FORMAT_ALIASES, lookup, mapped_shape, parse_mapping
from cryptopulse.sources.importers.reading import FileContent, Row, read_export

GENERIC = "generic"
AUTO = "auto"


@dataclass(frozen=True)
class JsonPreset:
    """A known JSON document (an API answer or a scraper's output): how to recognise it and where its fields are."""

    name: str
    dataset: str
    shape: str  # x | reddit | chart | coins_list | coins_markets
    rows: Callable[[FileContent], list[Row] | None]
    layout: str  # where the fields come from, for the report


JSON_PRESETS = (
    JsonPreset("x-api-v2-json", "posts", "x", jsonshapes.x_api_v2,
               "data[].{id, text, created_at, author_id, lang, public_metrics}; author from includes.users[].username"),
    JsonPreset("snscrape-jsonl", "posts", "x", jsonshapes.snscrape,
               "id, rawContent or content, date, user.{username, id}, lang, likeCount, retweetCount, replyCount, quoteCount"),
    JsonPreset("reddit-listing-json", "posts", "reddit", jsonshapes.reddit_listing,
               "data.children[].data.{name, title, selftext, created_utc, author, score, num_comments, subreddit}"),
    JsonPreset("coingecko-market-chart", "prices", "chart", jsonshapes.market_chart,
               "prices[][ms, price]; market_caps and total_volumes matched by timestamp"),
    JsonPreset("coingecko-coins-list", "prices", "coins_list", jsonshapes.coins_list, "[].{id, symbol, name}"),
    JsonPreset("coingecko-coins-markets", "prices", "coins_markets", jsonshapes.coins_markets,
               "[].{id, symbol, name, market_cap_rank, …}"),
)


def format_names(dataset: str) -> list[str]:
    """Every `--format` value `cryptopulse import <dataset>` accepts (besides the older names in FORMAT_ALIASES)."""
    return [AUTO, *(p.name for p in (*JSON_PRESETS, *CSV_FORMATS) if p.dataset == dataset), GENERIC]


@dataclass
class Parsed:
    """A file read through a format: which one, the raw shape it lands in, how its columns were mapped, and one row
    of fields per record."""

    path: Path
    format: str
    detected: bool
    shape: str
    rows: list[Row]
    mapping: dict[str, str] = field(default_factory=dict)  # field → column (CSV and --map)
    layout: str = ""  # a JSON preset's fixed layout
    notes: list[str] = field(default_factory=list)


def parse_file(path: str | Path, dataset: str, fmt: str = AUTO, mapping: str | None = None) -> Parsed:
    """Read `path` as `dataset` ("posts" or "prices") with format `fmt`, `auto`, or a `--map` mapping."""
    path = Path(path)
    fmt = FORMAT_ALIASES.get(fmt, fmt)
    if fmt not in format_names(dataset):
        raise ImportFileError(f"{path}: unknown --format {fmt!r} for {dataset} (known: {', '.join(format_names(dataset))})")
    if fmt == GENERIC and not mapping:
        raise ImportFileError(f"{path}: --format generic needs --map col=field,…")
    content = read_export(path)
    if mapping:
        if fmt not in (AUTO, GENERIC):
            raise ImportFileError(f"{path}: give either --format {fmt} or --map, not both")
        parsed = _mapped(content, dataset, parse_mapping(mapping, dataset, path))
    elif content.kind == "csv":
        parsed = _csv(content, dataset, fmt)
    else:
        parsed = _json(content, dataset, fmt)
    if content.skipped_banner:
        parsed.notes.append(f"skipped {len(content.skipped_banner)} banner line(s) before the header: {content.skipped_banner[0][:60]!r}")
    return parsed


def _json(content: FileContent, dataset: str, fmt: str) -> Parsed:
    presets = [p for p in JSON_PRESETS if p.dataset == dataset and fmt in (AUTO, p.name)]
    if not presets:
        raise ImportFileError(f"{content.path}: --format {fmt} expects CSV, the file is {content.kind.upper()}")
    for preset in presets:
        rows = preset.rows(content)
        if rows is not None:
            return Parsed(content.path, preset.name, fmt == AUTO, preset.shape, rows, layout=preset.layout)
    if fmt != AUTO:
        raise ImportFileError(f"{content.path}: not a {fmt} document")
    raise ImportFileError(
        f"{content.path}: no {dataset} format recognises this {content.kind.upper()} document; pass --format NAME or "
        f"--map key=field,… (formats: {', '.join(p.name for p in presets)})"
    )


def _csv(content: FileContent, dataset: str, fmt: str) -> Parsed:
    """Columns recognised by meaning, for the shape `--format` names or, with `auto`, the shape the header suggests."""
    formats = [f for f in CSV_FORMATS if f.dataset == dataset and fmt in (AUTO, f.name)]
    if not formats:
        raise ImportFileError(f"{content.path}: --format {fmt} expects JSON, the file is CSV")
    shape = formats[0].shape if len(formats) == 1 else post_shape(content.columns)
    found = recognise(content.columns, shape)
    if found.missing:
        raise ImportFileError(
            f"{content.path}: no column for {', '.join(found.missing)} in header {content.columns}; "
            "name the columns with --map COLUMN=field,… (see docs/IMPORTERS.md)"
        )
    if found.ambiguous:
        choices = "; ".join(f"{name} could be {' or '.join(map(repr, columns))}" for name, columns in found.ambiguous.items())
        raise ImportFileError(f"{content.path}: ambiguous header: {choices}; say which with {found.map_line()}")
    chosen = next(f.name for f in formats if f.shape == shape)
    rows = _project(content.rows, {column: name for name, column in found.mapping.items()})
    return Parsed(content.path, chosen, fmt == AUTO, shape, rows, mapping=dict(found.mapping))


def _project(rows: list[Row], mapping: dict[str, str]) -> list[Row]:
    """Rows of the file's columns → rows of importer fields (a row with a problem keeps it)."""
    return [
        Row(
            r.number,
            {f: lookup(r.values, c) for c, f in mapping.items()} if r.problem is None else {},
            r.problem,
            r.values if r.raw is None else r.raw,
        )
        for r in rows
    ]


def _mapped(content: FileContent, dataset: str, mapping: dict[str, str]) -> Parsed:
    shape = mapped_shape(dataset, mapping, content.path)
    if content.kind == "csv":
        by_lower = {c.lower(): c for c in content.columns}
        unknown = [c for c in mapping if c.lower() not in by_lower]
        if unknown:
            raise ImportFileError(f"{content.path}: --map names column(s) {', '.join(map(repr, unknown))} not in header {content.columns}")
        rows = _project(content.rows, {by_lower[c.lower()]: f for c, f in mapping.items()})
    else:
        records = jsonshapes.generic_records(content)
        absent = [c for c in mapping if not any(lookup(r.values, c) is not None for r in records if r.problem is None)]
        if absent:
            raise ImportFileError(f"{content.path}: --map names key(s) {', '.join(map(repr, absent))} that no record has")
        rows = _project(records, mapping)
    return Parsed(content.path, GENERIC, False, shape, rows, mapping={f: c for c, f in mapping.items()})
