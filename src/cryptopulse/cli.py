"""The `cryptopulse` command: parses arguments, calls the library, prints results. No pipeline logic here."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Annotated

import duckdb
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cryptopulse import status as status_mod
from cryptopulse.config import ConfigError, Settings, load_settings
from cryptopulse.engines import EngineError
from cryptopulse.interval import Interval, IntervalError, parse_day
from cryptopulse.lake import Lake, LakeError
from cryptopulse.pipeline import GateFailed, NothingToRun, RunReport, build_step, publish_step, run, stage_step
from cryptopulse.sources.http import SourceError
from cryptopulse.sources.landing import IngestReport
from cryptopulse.staging import StageResult

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console()
err = Console(stderr=True, soft_wrap=True)

USER_ERRORS = (ConfigError, IntervalError, LakeError, EngineError, NothingToRun, SourceError, FileNotFoundError, PermissionError)

ConfigOpt = Annotated[str | None, typer.Option("--config", help="TOML settings file (default: ./cryptopulse.toml if present).")]
LakeOpt = Annotated[str | None, typer.Option("--lake", help="Lake root (default: $CRYPTOPULSE_LAKE or ./data/lake).")]
WarehouseOpt = Annotated[str | None, typer.Option("--warehouse", help="Warehouse (default: $CRYPTOPULSE_WAREHOUSE).")]


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a user's mistake into one line on stderr and exit code 2; a failed gate into exit code 1."""
    try:
        yield
    except GateFailed as e:
        err.print(f"[bold red]✗ {e}[/]")
        for f in e.failures[1:]:
            err.print(f"  also failed: {f.label} ({f.failing_rows} rows)")
        err.print("Nothing was published; the warehouse keeps its previous state. See `cryptopulse status`.")
        raise typer.Exit(1) from None
    except USER_ERRORS as e:
        err.print(f"[red]error:[/] {e}", highlight=False)
        raise typer.Exit(2) from None


def settings_from(config: str | None, lake: str | None = None, warehouse: str | None = None) -> Settings:
    return load_settings(config, lake=lake, warehouse=warehouse)


def interval_from(start: str | None, end: str | None) -> Interval | None:
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise IntervalError("give both --start and --end (a half-open interval of days), or neither")
    return Interval.parse(start, end)


@app.command()
def generate(
    scale: Annotated[float, typer.Option(help="1 = reference scale (1.5 M posts, ~250 k coin-hours).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives byte-identical files.")] = 42,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Write the synthetic reference dataset into the lake's raw zone (marked source = 'synthetic')."""
    with user_errors():
        report = do_generate(settings_from(config, lake), scale, seed, quiet=as_json)
        if as_json:
            print(json.dumps(report.as_dict(), default=str))


def do_generate(settings: Settings, scale: float, seed: int, quiet: bool = False):
    from cryptopulse.sources.synthetic import generate as generate_dataset

    if scale <= 0:
        raise IntervalError(f"--scale must be positive, got {scale}")
    target = Lake(settings.lake)
    started = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, disable=quiet, transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        report = generate_dataset(target, scale=scale, seed=seed, progress=progress)
    if not quiet:
        console.print(
            f"[green]✓[/] generated {report.posts:,} posts and {report.coin_hours:,} coin-hours "
            f"({report.coins} coins, {report.start} → {report.end}) in {time.perf_counter() - started:.1f} s "
            f"→ {target.uri('raw/synthetic')}"
        )
    return report


@app.command("run")
def run_cmd(
    start: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD), inclusive.")] = None,
    end: Annotated[str | None, typer.Option(help="Day after the last (YYYY-MM-DD), exclusive.")] = None,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
    warehouse: WarehouseOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run report as JSON.")] = False,
) -> None:
    """Stage, build, gate and publish an interval of days (default: everything in the raw zone)."""
    with user_errors():
        settings = settings_from(config, lake, warehouse)
        report = do_run(settings, interval_from(start, end), quiet=as_json)
        if as_json:
            print(json.dumps(report.as_dict(), default=str))
        else:
            print_report(report, settings)


def do_run(settings: Settings, interval: Interval | None, quiet: bool = False) -> RunReport:
    with console.status("running…", spinner="dots") if not quiet else _nothing() as spinner:
        def progress(step: str) -> None:
            if spinner is not None:
                spinner.update(f"[bold]{step}[/] …")

        return run(settings, interval, progress=progress)


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


def print_staged(results: list[StageResult]) -> None:
    for s in results:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(s.reasons.items())) or "none"
        console.print(
            f"staged {s.dataset}: {s.received:,} received = {s.staged:,} staged + {s.duplicates:,} duplicates"
            f" + {s.quarantined:,} quarantined ({reasons})"
        )


def print_report(report: RunReport, settings: Settings) -> None:
    lake = Lake(settings.lake)
    console.print(f"[bold]run {report.run_id}[/] over days {report.interval}")
    print_staged(report.staged)
    table = Table("table")
    for col in ("rows (interval)", "seconds", "published rows", "files"):
        table.add_column(col, justify="right")
    published = {t.name: t for t in report.published}
    for m in report.models:
        pub = published.get(m.name)
        table.add_row(m.name, f"{m.rows_written:,}", f"{m.seconds:.2f}", f"{pub.rows:,}" if pub else "-", str(pub.files) if pub else "-")
    console.print(table)
    passed = sum(c.passed for c in report.checks)
    console.print(f"[green]✓ {passed}/{len(report.checks)} quality checks passed[/]")
    steps = "  ".join(f"{k} {v:.2f} s" for k, v in report.steps.items())
    console.print(f"time: {steps}  (total {sum(report.steps.values()):.2f} s)")
    console.print(f"warehouse: {settings.warehouse}\npublished: {lake.uri('published')} (manifest: published/_manifest.json)")


StartOpt = Annotated[str | None, typer.Option("--start", help="First day (YYYY-MM-DD), inclusive.")]
EndOpt = Annotated[str | None, typer.Option("--end", help="Day after the last (YYYY-MM-DD), exclusive.")]


@app.command("stage")
def stage_cmd(start: StartOpt = None, end: EndOpt = None, config: ConfigOpt = None, lake: LakeOpt = None) -> None:
    """Step 1: raw → staged (parse, type, deduplicate, quarantine) for an interval (default: all raw data)."""
    with user_errors():
        results, covered = stage_step(settings_from(config, lake), interval_from(start, end))
        print_staged(results)
        console.print(f"interval {covered}")


@app.command("build")
def build_cmd(
    start: StartOpt = None, end: EndOpt = None, config: ConfigOpt = None, lake: LakeOpt = None, warehouse: WarehouseOpt = None
) -> None:
    """Step 2: staged → warehouse models, then the quality gates (exit 1 and roll back if one fails)."""
    with user_errors():
        covered, models, checks = build_step(settings_from(config, lake, warehouse), interval_from(start, end))
        for m in models:
            console.print(f"{m.name}: {m.rows_written:,} rows in the interval ({m.seconds:.2f} s)")
        console.print(f"[green]✓ {len(checks)} checks passed[/] for {covered}")


@app.command("publish")
def publish_cmd(
    start: StartOpt = None, end: EndOpt = None, config: ConfigOpt = None, lake: LakeOpt = None, warehouse: WarehouseOpt = None
) -> None:
    """Step 3: warehouse → published Parquet (atomic switch) for an interval (default: every staged day)."""
    with user_errors():
        for t in publish_step(settings_from(config, lake, warehouse), interval_from(start, end)):
            console.print(f"published {t.name}: {t.rows:,} rows in {t.files} files")


@app.command()
def demo(
    scale: Annotated[float, typer.Option(help="Dataset scale (1 = reference).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Generate the reference dataset (if the lake has none) and run the whole pipeline over it."""
    with user_errors():
        settings = settings_from(config, lake, warehouse)
        target = Lake(settings.lake)
        manifest = "raw/synthetic/manifest.json"
        if target.exists(manifest) and json.loads(target.read_bytes(manifest)).get("scale") == scale:
            console.print(f"reusing the synthetic dataset in {target.uri('raw/synthetic')} (scale {scale})")
        else:
            do_generate(settings, scale, seed)
        print_report(do_run(settings, None), settings)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="SQL to run against the warehouse (read-only).")],
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    config: ConfigOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Run a read-only query on the warehouse."""
    with user_errors():
        settings = settings_from(config, warehouse=warehouse)
        try:
            columns, rows = status_mod.query(settings, query)
        except duckdb.Error as e:
            raise IntervalError(f"query failed: {str(e).splitlines()[0]}") from None
        if as_csv:
            writer = csv.writer(sys.stdout)
            writer.writerow(columns)
            writer.writerows(rows)
            return
        table = Table(*columns)
        for row in rows:
            table.add_row(*("NULL" if v is None else str(v) for v in row))
        console.print(table)


ingest_app = typer.Typer(no_args_is_help=True, help="Fetch from the APIs into the raw zone (then `cryptopulse run`).")
app.add_typer(ingest_app, name="ingest")

ReplayOpt = Annotated[str | None, typer.Option("--replay", help="Serve recorded payloads from this folder instead of the live API.")]
RateOpt = Annotated[float | None, typer.Option("--calls-per-minute", help="Client-side rate limit (default: the plan's).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the ingest report as JSON.")]


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _day(value: str | None, what: str) -> dt.date | None:
    return parse_day(value, what) if value else None


def _replay(folder: str | None) -> str | None:
    if folder is not None and not Path(folder).is_dir():
        raise SourceError(f"--replay {folder}: no such folder of recorded payloads")
    return folder


def _rate(calls_per_minute: float | None) -> dict[str, float]:
    if calls_per_minute is not None and calls_per_minute <= 0:
        raise IntervalError(f"--calls-per-minute must be positive, got {calls_per_minute:g}")
    return {"calls_per_minute": calls_per_minute} if calls_per_minute else {}


def print_ingest(report: IngestReport, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.as_dict(), default=str))
        return
    console.print(
        f"[green]✓[/] {report.source}: {report.pages:,} pages, {report.records:,} records, {report.files_written:,} files "
        f"({report.requests:,} requests, {report.retries:,} retries, {report.skipped:,} already landed) in {report.seconds:.1f} s"
    )


@ingest_app.command("coingecko")
def ingest_coingecko_cmd(
    start: StartOpt = None,
    end: EndOpt = None,
    coins: Annotated[str | None, typer.Option(help="Coin ids, comma-separated (bitcoin,ethereum).")] = None,
    top: Annotated[int | None, typer.Option(help="Also track the top N coins by market cap.")] = None,
    replay: ReplayOpt = None,
    calls_per_minute: RateOpt = None,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """CoinGecko: coin list, markets of the tracked coins, and their hourly charts for [start, end)."""
    from cryptopulse.sources.coingecko import ingest_coingecko
    from cryptopulse.sources.coingecko.helpers import CoinGeckoClient, ReplayClient

    with user_errors():
        target = Lake(settings_from(config, lake).lake)
        first, last = _day(start, "--start"), _day(end, "--end")
        with closing(ReplayClient(replay) if _replay(replay) else CoinGeckoClient(**_rate(calls_per_minute))) as client:
            report = ingest_coingecko(target, _csv(coins), top, first, last, client=client)
        print_ingest(report, as_json)


@ingest_app.command("x")
def ingest_x_cmd(
    start: StartOpt = None,
    end: EndOpt = None,
    coins: Annotated[str | None, typer.Option(help="Coin ids, comma-separated; their cashtags/hashtags make the query.")] = None,
    query: Annotated[list[str] | None, typer.Option(help="Extra search as NAME=QUERY (repeatable).")] = None,
    replay: ReplayOpt = None,
    calls_per_minute: RateOpt = None,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """X API v2 recent search (bearer token from $X_BEARER_TOKEN) for each coin's query over [start, end)."""
    from cryptopulse.sources.x import ingest_x
    from cryptopulse.sources.x.helpers import ReplayClient, XClient

    with user_errors():
        target = Lake(settings_from(config, lake).lake)
        queries = {}
        for item in query or []:
            name, sep, text = item.partition("=")
            if not sep or not name.strip() or not text.strip():
                raise IntervalError(f"--query must look like NAME=QUERY, got {item!r}")
            queries[name.strip()] = text.strip()
        with closing(ReplayClient(replay) if _replay(replay) else XClient(**_rate(calls_per_minute))) as client:
            report = ingest_x(target, _csv(coins), queries, _day(start, "--start"), _day(end, "--end"), client=client)
        print_ingest(report, as_json)


@ingest_app.command("reddit")
def ingest_reddit_cmd(
    subreddits: Annotated[str, typer.Option(help="Subreddits, comma-separated (Bitcoin,CryptoCurrency).")],
    start: StartOpt = None,
    end: EndOpt = None,
    user_agent: Annotated[str | None, typer.Option(help="Unique User-Agent (default: $CRYPTOPULSE_REDDIT_USER_AGENT).")] = None,
    replay: ReplayOpt = None,
    calls_per_minute: RateOpt = None,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Reddit `/r/{sub}/new` (app-only OAuth from $REDDIT_CLIENT_ID/$REDDIT_CLIENT_SECRET), newest back to the cursor."""
    from cryptopulse.sources.reddit import ingest_reddit
    from cryptopulse.sources.reddit.helpers import RedditClient, ReplayClient

    with user_errors():
        target = Lake(settings_from(config, lake).lake)
        first, last = _day(start, "--start"), _day(end, "--end")
        with closing(ReplayClient(replay) if _replay(replay) else RedditClient(user_agent, **_rate(calls_per_minute))) as client:
            report = ingest_reddit(target, _csv(subreddits), first, last, client=client)
        print_ingest(report, as_json)


@app.command()
def status(config: ConfigOpt = None, lake: LakeOpt = None, warehouse: WarehouseOpt = None) -> None:
    """Tables and row counts, the last runs, and the last check results."""
    with user_errors():
        settings = settings_from(config, lake, warehouse)
        info = status_mod.collect(settings)
        t = Table(title=f"warehouse {settings.warehouse}", title_justify="left")
        t.add_column("table")
        t.add_column("rows", justify="right")
        for name, rows in info.tables:
            t.add_row(name, f"{rows:,}")
        console.print(t)
        runs = Table("run", "interval", "status", "seconds", title="last runs", title_justify="left")
        for r in info.runs:
            runs.add_row(r[0], f"[{r[1]}, {r[2]})", r[3], f"{r[4]:.2f}")
        console.print(runs)
        if info.checks:
            failed = [c for c in info.checks if not c[1]]
            console.print(f"last checks: {len(info.checks) - len(failed)}/{len(info.checks)} passed")
            for name, _, n, example in failed:
                console.print(f"  [red]✗ {name}[/] {n} rows, e.g. {example}")
        console.print(f"published: {info.published}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
