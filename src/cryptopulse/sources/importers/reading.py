"""Read an export file into rows: CSV (banner lines, CRLF/LF mixes, padded headers) or JSON / JSON Lines."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptopulse.sources.importers.errors import ImportFileError

csv.field_size_limit(64 * 1024 * 1024)


@dataclass
class Row:
    """One record of the file: its 1-based number among the file's records, its values, or why it is unusable."""

    number: int
    values: dict[str, Any]
    problem: str | None = None
    raw: Any = None  # the record as the file holds it (kept for the quarantine)


@dataclass
class FileContent:
    """What a file holds: a CSV table (`columns` + `rows`) or a parsed JSON document (`body`, or `lines` for JSONL)."""

    path: Path
    kind: str  # "csv" | "json" | "jsonl"
    columns: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    body: Any = None
    lines: list[Any] = field(default_factory=list)
    skipped_banner: list[str] = field(default_factory=list)


def read_export(path: str | Path) -> FileContent:
    """Read `path` as JSON, JSON Lines or CSV (decided from its content, not its name)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(f"{path}: no such file") from None
    except (IsADirectoryError, PermissionError) as e:
        raise ImportFileError(f"{path}: cannot read ({e.strerror})") from None
    text = _decode(raw)
    if not text.strip():
        raise ImportFileError(f"{path}: the file is empty")
    if text.lstrip()[:1] in "[{":
        return _read_json(path, text)
    return _read_csv(path, text)


def _decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM); a file that is not UTF-8 is read as Windows-1252, which maps every byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _read_json(path: Path, text: str) -> FileContent:
    try:
        return FileContent(path, "json", body=json.loads(text))
    except json.JSONDecodeError as whole_error:
        lines = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                if number == 1:  # not JSON Lines either: report the whole-document error
                    raise ImportFileError(f"{path}: not valid JSON (line {whole_error.lineno}: {whole_error.msg})") from None
                lines.append(_UnreadableLine(number, line))
        return FileContent(path, "jsonl", lines=lines)


@dataclass
class _UnreadableLine:
    """A JSON Lines line that is not JSON: it becomes one quarantined record."""

    number: int
    text: str


def is_unreadable(item: Any) -> bool:
    return isinstance(item, _UnreadableLine)


def _read_csv(path: Path, text: str) -> FileContent:
    """CSV after making every line end LF. The header is the first line of two or more fields that has as many
    fields as most of the lines after it; the lines before it are banner lines (`https://www.CryptoDataDownload.com`,
    `Timestamps are UTC,…`) and are skipped. Blank lines between records are not records."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    records = [cells for cells in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in cells)]
    at = _header_index(records)
    if at is None:
        raise ImportFileError(f"{path}: no header line with two or more comma-separated columns")
    columns = [c.strip().lstrip("\ufeff") for c in records[at]]
    content = FileContent(path, "csv", columns=columns, skipped_banner=[",".join(cells) for cells in records[:at]])
    for number, cells in enumerate(records[at + 1 :], start=1):
        if len(cells) != len(columns):
            content.rows.append(Row(number, {"_cells": cells, "_header_fields": len(columns)}, "wrong_field_count"))
            continue
        content.rows.append(Row(number, dict(zip(columns, cells))))
    return content


def _header_index(records: list[list[str]], lookahead: int = 20) -> int | None:
    """The first record of ≥ 2 fields whose field count is the most common one among the next `lookahead` records."""
    for i, cells in enumerate(records):
        following = Counter(len(r) for r in records[i + 1 : i + 1 + lookahead])
        if len(cells) >= 2 and (not following or following.most_common(1)[0][0] == len(cells)):
            return i
    return None
