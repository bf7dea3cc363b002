"""Import the CSV/JSON exports people already hold into `raw/import/`, in the shapes staging reads (see docs/IMPORTERS.md)."""

from __future__ import annotations

from pathlib import Path

from cryptopulse.lake import Lake
from cryptopulse.sources.importers import catalog, land
from cryptopulse.sources.importers.coins import own_lists, resolve_coin
from cryptopulse.sources.importers.detect import AUTO, Parsed, format_names, parse_file
from cryptopulse.sources.importers.errors import ImportFileError
from cryptopulse.sources.importers.posts import import_posts
from cryptopulse.sources.importers.prices import import_chart, import_coins, require_volume
from cryptopulse.sources.importers.report import ImportReport

__all__ = ["ImportFileError", "ImportReport", "format_names", "import_file"]


def import_file(
    lake: Lake, path: str | Path, dataset: str, fmt: str = AUTO, mapping: str | None = None, coin: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import one file of `dataset` ("posts" or "prices"; coin lists count as prices) and return its report.

    Re-importing the same file name replaces what it landed before; rejected rows go to
    `raw/import/_quarantine/<file-slug>.jsonl.gz` with their row number, reason and raw record. A lake without a
    coin list of its own gets the bundled catalog. `dry_run` reads, counts and previews, and lands nothing.
    """
    parsed = parse_file(path, dataset, fmt, mapping)
    report = ImportReport(file=str(path), format=parsed.format, detected=parsed.detected, dry_run=dry_run)
    if coin is not None and parsed.shape != "chart":
        raise ImportFileError(f"{path}: --coin only applies to price charts, not to a {parsed.format} file")
    _import(lake, parsed, coin, report)
    report.mapping, report.layout = dict(parsed.mapping), parsed.layout
    report.notes[:0] = parsed.notes
    if not dry_run:
        quarantine = land.write_quarantine(lake, land.file_slug(path), report.rejected)
        if quarantine:
            report.notes.append(f"rejected rows are in {quarantine}")
        _keep_a_coin_list(lake, parsed, report)
    report.check()
    return report


def _import(lake: Lake, parsed: Parsed, coin: str | None, report: ImportReport) -> None:
    if parsed.shape == "chart":
        require_volume(parsed)
        import_chart(lake, parsed, resolve_coin(lake, parsed, coin), report, report.dry_run)
    elif parsed.shape in ("coins_list", "coins_markets"):
        import_coins(lake, parsed, report, report.dry_run)
    else:
        import_posts(lake, parsed, report, report.dry_run)


def _keep_a_coin_list(lake: Lake, parsed: Parsed, report: ImportReport) -> None:
    """Staging needs a coin list: an imported `/coins/list` replaces the bundled catalog; a lake with none gets it."""
    if parsed.shape == "coins_list":
        if catalog.remove(lake):
            report.notes.append("this coin list replaces the bundled catalog the lake held (raw/catalog/ removed)")
    elif not own_lists(lake):
        fresh = not lake.exists(catalog.LANDED_LIST)
        catalog.land(lake)
        if fresh:
            report.notes.append(f"the lake has no coin list: landed {catalog.bundled().describe()} in raw/catalog/; "
                                "a /coins/list file you import replaces it")
