"""Pick the preset for a file (`--format auto` recognises it from its header or shape) and turn it into field rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cryptopulse.sources.importers import jsonshapes
from cryptopulse.sources.importers.errors import ImportFileError
from cryptopulse.sources.importers.presets import CSV_PRESETS, CsvPreset, lookup, mapped_shape, parse_mapping
from cryptopulse.sources.importers.reading import FileContent, Row, read_export

GENERIC = "generic"
AUTO = "auto"


@dataclass(frozen=True)
class JsonPreset:
    name: str
    dataset: str
    shape: str  # x | reddit | chart | coins_list | coins_markets
    rows: Callable[[FileContent], list[Row] | None]


JSON_PRESETS = (
    JsonPreset("x-api-v2-json", "posts", "x", jsonshapes.x_api_v2),
    JsonPreset("snscrape-jsonl", "posts", "x", jsonshapes.snscrape),
    JsonPreset("reddit-listing-json", "posts", "reddit", jsonshapes.reddit_listing),
    JsonPreset("coingecko-market-chart", "prices", "chart", jsonshapes.market_chart),
    JsonPreset("coingecko-coins-list", "prices", "coins_list", jsonshapes.coins_list),
    JsonPreset("coingecko-coins-markets", "prices", "coins_markets", jsonshapes.coins_markets),
)


def format_names(dataset: str) -> list[str]:
    """Every `--format` value `cryptopulse import <dataset>` accepts."""
    return [AUTO, *(p.name for p in (*JSON_PRESETS, *CSV_PRESETS) if p.dataset == dataset), GENERIC]


@dataclass
class Parsed:
    """A file read through a preset: which one, the raw shape it lands in, and one row of fields per record."""

    path: Path
    format: str
    detected: bool
    shape: str
    rows: list[Row]
    notes: list[str] = field(default_factory=list)


def parse_file(path: str | Path, dataset: str, fmt: str = AUTO, mapping: str | None = None) -> Parsed:
    """Read `path` as `dataset` ("posts" or "prices") with preset `fmt`, `auto`, or a `--map` mapping."""
    path = Path(path)
    if fmt not in format_names(dataset):
        raise ImportFileError(f"{path}: unknown --format {fmt!r} for {dataset} (known: {', '.join(format_names(dataset))})")
    if fmt == GENERIC and not mapping:
        raise ImportFileError(f"{path}: --format generic needs --map col=field,…")
    content = read_export(path)
    if mapping:
        if fmt not in (AUTO, GENERIC):
            raise ImportFileError(f"{path}: give either --format {fmt} or --map, not both")
        parsed = _mapped(content, dataset, parse_mapping(mapping, dataset, path))
    elif fmt == AUTO:
        parsed = _detect(content, dataset)
    else:
        parsed = _named(content, dataset, fmt)
    if content.skipped_banner:
        parsed.notes.append(f"skipped {len(content.skipped_banner)} banner line(s) before the header: {content.skipped_banner[0][:60]!r}")
    return parsed


def _detect(content: FileContent, dataset: str) -> Parsed:
    for preset in _presets(content, dataset):
        parsed = _try(content, preset)
        if parsed is not None:
            parsed.detected = True
            return parsed
    what = f"header {content.columns}" if content.kind == "csv" else f"{content.kind.upper()} document"
    raise ImportFileError(
        f"{content.path}: no {dataset} preset recognises this {what}; pass --format NAME or --map col=field,… "
        f"(formats: {', '.join(format_names(dataset)[1:])})"
    )


def _named(content: FileContent, dataset: str, fmt: str) -> Parsed:
    preset = next(p for p in (*JSON_PRESETS, *CSV_PRESETS) if p.name == fmt)
    if (content.kind == "csv") != isinstance(preset, CsvPreset):
        raise ImportFileError(f"{content.path}: --format {fmt} expects {'CSV' if isinstance(preset, CsvPreset) else 'JSON'}, "
                              f"the file is {content.kind.upper()}")
    parsed = _try(content, preset)
    if parsed is None:
        if isinstance(preset, CsvPreset):
            missing = [f for f in preset.required if f not in _resolve_all(preset, content.columns)]
            raise ImportFileError(f"{content.path}: not a {fmt} file: no column for {', '.join(missing)} in header {content.columns}")
        raise ImportFileError(f"{content.path}: not a {fmt} document")
    return parsed


def _resolve_all(preset: CsvPreset, header: list[str]) -> dict[str, str]:
    lower = {c.lower() for c in header}
    return {f: f for f, candidates in preset.columns.items() if any(c in lower for c in candidates)}


def _presets(content: FileContent, dataset: str) -> list[JsonPreset | CsvPreset]:
    family = CSV_PRESETS if content.kind == "csv" else JSON_PRESETS
    return [p for p in family if p.dataset == dataset]


def _try(content: FileContent, preset: JsonPreset | CsvPreset) -> Parsed | None:
    if isinstance(preset, JsonPreset):
        rows = preset.rows(content) if content.kind != "csv" else None
        return Parsed(content.path, preset.name, False, preset.shape, rows) if rows is not None else None
    columns = preset.resolve(content.columns) if content.kind == "csv" else None
    if columns is None:
        return None
    return Parsed(content.path, preset.name, False, preset.shape, _project(content.rows, {c: f for f, c in columns.items()}))


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
    return Parsed(content.path, GENERIC, False, shape, rows)
