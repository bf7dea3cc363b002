"""Import the CSV/JSON exports people already hold into `raw/import/`, in the shapes staging reads (see docs/IMPORTERS.md)."""

from __future__ import annotations

from pathlib import Path

from cryptopulse.lake import Lake
from cryptopulse.sources.importers import land
from cryptopulse.sources.importers.detect import AUTO, Parsed, format_names, parse_file
from cryptopulse.sources.importers.errors import ImportFileError
from cryptopulse.sources.importers.posts import import_posts
from cryptopulse.sources.importers.prices import import_chart, import_coins, require_volume, resolve_coin
from cryptopulse.sources.importers.report import ImportReport

__all__ = ["ImportFileError", "ImportReport", "format_names", "import_file"]


def import_file(
    lake: Lake, path: str | Path, dataset: str, fmt: str = AUTO, mapping: str | None = None, coin: str | None = None
) -> ImportReport:
    """Import one file of `dataset` ("posts" or "prices"; coin lists count as prices) and return its report.

    Re-importing the same file name replaces what it landed before; rejected rows go to
    `raw/import/_quarantine/<file-slug>.jsonl.gz` with their row number, reason and raw record.
    """
    parsed = parse_file(path, dataset, fmt, mapping)
    report = ImportReport(file=str(path), format=parsed.format, detected=parsed.detected)
    if coin is not None and parsed.shape != "chart":
        raise ImportFileError(f"{path}: --coin only applies to price charts, not to a {parsed.format} file")
    _land(lake, parsed, coin, report)
    report.notes[:0] = parsed.notes
    quarantine = land.write_quarantine(lake, land.file_slug(path), report.rejected)
    if quarantine:
        report.notes.append(f"rejected rows are in {quarantine}")
    report.check()
    return report


def _land(lake: Lake, parsed: Parsed, coin: str | None, report: ImportReport) -> None:
    if parsed.shape == "chart":
        require_volume(parsed)
        import_chart(lake, parsed, resolve_coin(lake, parsed, coin), report)
    elif parsed.shape in ("coins_list", "coins_markets"):
        import_coins(lake, parsed, report)
    else:
        import_posts(lake, parsed, report)
