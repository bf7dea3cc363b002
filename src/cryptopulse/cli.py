"""The `cryptopulse` command: parses arguments, calls the library, prints results. No pipeline logic here."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cryptopulse.api.cli import register as register_api
from cryptopulse.cli_support import (
    ConfigOpt,
    EndOpt,
    JsonOpt,
    LakeOpt,
    StartOpt,
    UsageError,
    WaitOpt,
    WarehouseOpt,
    at_least,
    interval_from,
    lake_from,
    positive,
    settings_from,
    user_errors,
)
from cryptopulse.config import Settings
from cryptopulse.dashboard.command import register as register_dashboard
from cryptopulse.interval import Interval, parse_day
from cryptopulse.lake import Lake
from cryptopulse.pipeline import RunReport, build_step, publish_step, run, run_in_batches, stage_step
from cryptopulse.sources.landing import IngestReport
from cryptopulse.staging import StageResult

if TYPE_CHECKING:  # the analysis modules import pandas, status the readers: only the commands that use them load them
    from cryptopulse.analysis.enrich import EnrichReport
    from cryptopulse.status import Status

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console()


@app.command()
def generate(
    scale: Annotated[float, typer.Option(help="1 = reference scale (1.5 M posts, ~250 k coin-hours).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives byte-identical files.")] = 42,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Write the synthetic reference dataset into the lake's raw zone (marked source = 'synthetic')."""
    with user_errors():
        report = do_generate(settings_from(config, lake), scale, seed, quiet=as_json)
        if as_json:
            print(json.dumps(report.as_dict(), default=str))


def do_generate(settings: Settings, scale: float, seed: int, quiet: bool = False):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from cryptopulse.sources.synthetic import generate as generate_dataset

    positive(scale, "--scale")
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
    start: StartOpt = None,
    end: EndOpt = None,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
    warehouse: WarehouseOpt = None,
    batch_days: Annotated[int | None, typer.Option(
        "--batch-days", help="Run as consecutive runs of N days, oldest first (bounds memory and spill at large scale).")] = None,
    as_json: JsonOpt = False,
    wait: WaitOpt = False,
) -> None:
    """Stage, build, gate and publish an interval of days (default: everything in the raw zone)."""
    with user_errors():
        settings = settings_from(config, lake, warehouse)
        if batch_days is not None:
            run_batches(settings, interval_from(start, end), batch_days, as_json, wait)
            return
        report = do_run(settings, interval_from(start, end), quiet=as_json, wait=wait)
        if as_json:
            print(json.dumps(report.as_dict(), default=str))
        else:
            print_report(report, settings)


def do_run(settings: Settings, interval: Interval | None, quiet: bool = False, wait: bool = False) -> RunReport:
    with step_spinner(quiet) as progress:
        return run(settings, interval, progress=progress, wait=wait)


def run_batches(settings: Settings, interval: Interval | None, batch_days: int, as_json: bool, wait: bool = False) -> None:
    at_least(batch_days, 1, "--batch-days")
    with step_spinner(as_json) as progress:
        reports = run_in_batches(settings, interval, batch_days, progress=progress, wait=wait)
    if as_json:
        print(json.dumps([r.as_dict() for r in reports], default=str))
        return
    for r in reports:
        posts = next((s.staged for s in r.staged if s.dataset == "posts"), 0)
        console.print(f"[green]✓[/] {r.interval}: {posts:,} posts staged, {len(r.checks)} checks passed, "
                      f"{sum(r.steps.values()):.1f} s")
    print_report(reports[-1], settings)


@contextmanager
def step_spinner(quiet: bool) -> Iterator[Callable[[str], None] | None]:
    """A spinner naming the pipeline's current step (none when `quiet`); yields the progress callback."""
    if quiet:
        yield None
        return
    with console.status("running…", spinner="dots") as spinner:
        yield lambda step: spinner.update(f"[bold]{step}[/] …")


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


@app.command("stage")
def stage_cmd(start: StartOpt = None, end: EndOpt = None, config: ConfigOpt = None, lake: LakeOpt = None, wait: WaitOpt = False) -> None:
    """Step 1: raw → staged (parse, type, deduplicate, quarantine) for an interval (default: all raw data)."""
    with user_errors():
        results, covered = stage_step(settings_from(config, lake), interval_from(start, end), wait=wait)
        print_staged(results)
        console.print(f"interval {covered}")


@app.command("build")
def build_cmd(
    start: StartOpt = None, end: EndOpt = None, config: ConfigOpt = None, lake: LakeOpt = None, warehouse: WarehouseOpt = None,
    wait: WaitOpt = False,
) -> None:
    """Step 2: staged → warehouse models, then the quality gates (exit 1 and roll back if one fails)."""
    with user_errors():
        covered, models, checks = build_step(settings_from(config, lake, warehouse), interval_from(start, end), wait=wait)
        for m in models:
            console.print(f"{m.name}: {m.rows_written:,} rows in the interval ({m.seconds:.2f} s)")
        console.print(f"[green]✓ {len(checks)} checks passed[/] for {covered}")


@app.command("publish")
def publish_cmd(
    start: StartOpt = None, end: EndOpt = None, config: ConfigOpt = None, lake: LakeOpt = None, warehouse: WarehouseOpt = None,
    wait: WaitOpt = False,
) -> None:
    """Step 3: warehouse → published Parquet (atomic switch) for an interval (default: every staged day)."""
    with user_errors():
        for t in publish_step(settings_from(config, lake, warehouse), interval_from(start, end), wait=wait):
            console.print(f"published {t.name}: {t.rows:,} rows in {t.files} files")


@app.command()
def demo(
    scale: Annotated[float, typer.Option(help="Dataset scale (1 = reference).")] = 1.0,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Generate the reference dataset (if the lake has none), run the pipeline over it, `enrich` (sentiment), `analyze`."""
    with user_errors():
        from cryptopulse.analysis.analyze import analyze as analyze_coins  # first: a missing extra stops the demo before any work
        from cryptopulse.analysis.enrich import enrich as enrich_posts

        settings = settings_from(config, lake, warehouse)
        target = Lake(settings.lake)
        manifest = "raw/synthetic/manifest.json"
        if target.exists(manifest) and json.loads(target.read_bytes(manifest)).get("scale") == scale:
            console.print(f"reusing the synthetic dataset in {target.uri('raw/synthetic')} (scale {scale})")
        else:
            do_generate(settings, scale, seed)
        print_report(do_run(settings, None), settings)
        console.print("scoring sentiment and flagging bots (cryptopulse enrich)…")
        print_enrich_report(enrich_posts(settings))
        console.print("testing whether sentiment or post volume leads returns (cryptopulse analyze --no-charts)…")
        analysis = analyze_coins(settings, charts=False)
        print_next_steps(Lake(settings.lake), analysis.headline())


def print_next_steps(lake: Lake, finding: str) -> None:
    """What the demo made and where to look at it."""
    console.print("\n[bold]What to look at next[/]")
    lines = (
        ("published", f"{lake.uri('published')} (manifest: {lake.uri('published/_manifest.json')})"),
        ("finding", finding),
        ("details", "cryptopulse analyze   (per coin; writes PNG charts to analysis/charts/ in the lake)"),
        ("dashboard", "make dashboard   (or: cryptopulse dashboard)"),
        ("API", "make serve       (or: cryptopulse serve)"),
        ("query", 'cryptopulse sql "SELECT coin_id, count(*) FROM bridge_post_coin GROUP BY ALL"'),
        ("status", "cryptopulse status"),
    )
    for label, text in lines:
        console.print(f"  {label:<10} {text}", highlight=False, soft_wrap=True, markup=False)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A query (SELECT, WITH, EXPLAIN …) over the published tables.")],
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV (safe to open in a spreadsheet) instead of a table.")] = False,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
) -> None:
    """Run a read-only query over the published version (one view per published table; nothing else is reachable)."""
    from cryptopulse import status as status_mod

    with user_errors():
        columns, rows = status_mod.query(lake_from(config, lake), query)
        if as_csv:
            writer = csv.writer(sys.stdout)
            writer.writerow([status_mod.csv_cell(c) for c in columns])
            writer.writerows([status_mod.csv_cell(v) for v in row] for row in rows)
            return
        table = Table(*columns)
        for row in rows:
            table.add_row(*("NULL" if v is None else str(v) for v in row))
        console.print(table)


@app.command("sql-render")
def sql_render(
    dialect: Annotated[str, typer.Option(help="duckdb, postgres, spark or redshift.")],
    start: StartOpt = None,
    end: EndOpt = None,
    iam_role: Annotated[str | None, typer.Option(help="Redshift: the IAM role ARN its COPY uses to read the lake.")] = None,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
) -> None:
    """Print the SQL a run executes on an engine: set-up, loading the staged zone, the build and the gates."""
    from cryptopulse.pipeline import staged_interval
    from cryptopulse.sql_render import EXAMPLE_IAM_ROLE, render_script

    with user_errors():
        settings = settings_from(config, lake)
        target = Lake(settings.lake)
        interval = interval_from(start, end) or staged_interval(target, None)
        print(render_script(dialect, interval, target.uri(), iam_role or EXAMPLE_IAM_ROLE, settings.freshness_hours, target), end="")


@app.command("grant-reader")
def grant_reader_cmd(
    name: Annotated[str, typer.Argument(help="Role to create (LOGIN, no password) or update.")],
    config: ConfigOpt = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """PostgreSQL: let role NAME read the published schema (today's tables and later ones), and nothing else."""
    with user_errors():
        from cryptopulse.engines.postgres import grant_reader

        created = grant_reader(settings_from(config, warehouse=warehouse), name)
        console.print(f"[green]✓[/] {'created' if created else 'updated'} role {name}: SELECT on schema published only"
                      + (f" (set a password: ALTER ROLE {name} PASSWORD '…')" if created else ""))


ingest_app = typer.Typer(no_args_is_help=True, help="Fetch from the APIs into the raw zone (then `cryptopulse run`).")
app.add_typer(ingest_app, name="ingest")

ReplayOpt = Annotated[str | None, typer.Option("--replay", help="Serve recorded payloads from this folder instead of the live API.")]
RateOpt = Annotated[float | None, typer.Option("--calls-per-minute", help="Client-side rate limit (default: the plan's).")]


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _day(value: str | None, what: str) -> dt.date | None:
    return parse_day(value, what) if value else None


@contextmanager
def _client(source: str, replay: str | None, calls_per_minute: float | None, **options: str | None) -> Iterator[Any]:
    """The source's API client for one command (replaying `replay`, else live), closed afterwards."""
    from cryptopulse.sources.clients import api_client

    if replay is not None and not Path(replay).is_dir():
        raise UsageError(f"--replay {replay}: no such folder of recorded payloads")
    positive(calls_per_minute, "--calls-per-minute")
    with closing(api_client(source, replay, calls_per_minute, **options)) as client:
        yield client


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

    with user_errors():
        target = lake_from(config, lake)
        first, last = _day(start, "--start"), _day(end, "--end")
        with _client("coingecko", replay, calls_per_minute) as client:
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

    with user_errors():
        target = lake_from(config, lake)
        queries = {}
        for item in query or []:
            name, sep, text = item.partition("=")
            if not sep or not name.strip() or not text.strip():
                raise UsageError(f"--query must look like NAME=QUERY, got {item!r}")
            queries[name.strip()] = text.strip()
        with _client("x", replay, calls_per_minute) as client:
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

    with user_errors():
        target = lake_from(config, lake)
        first, last = _day(start, "--start"), _day(end, "--end")
        with _client("reddit", replay, calls_per_minute, user_agent=user_agent) as client:
            report = ingest_reddit(target, _csv(subreddits), first, last, client=client)
        print_ingest(report, as_json)


import_app = typer.Typer(no_args_is_help=True, help="Import CSV/JSON exports you already have into the raw zone (then `cryptopulse run`).")
app.add_typer(import_app, name="import")

FilesArg = Annotated[list[Path], typer.Argument(help="Export files (CSV, JSON or JSON Lines).")]
FormatOpt = Annotated[str, typer.Option("--format", help="A preset name, or auto (recognise it from the header/shape).")]
MapOpt = Annotated[str | None, typer.Option("--map", help="Generic mode: column=field,… (see docs/IMPORTERS.md).")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show the format, the column mapping and the first 5 records; land nothing.")]


def do_import(files: list[Path], dataset: str, fmt: str, mapping: str | None, coin: str | None,
              config: str | None, lake: str | None, as_json: bool, dry_run: bool = False) -> None:
    from cryptopulse.sources.importers import import_file

    target = lake_from(config, lake)
    for path in files:
        report = import_file(target, path, dataset, fmt, mapping, coin, dry_run)
        if as_json:
            print(json.dumps(report.as_dict()))
            continue
        console.print(f"[green]✓[/] {report.summary()}", highlight=False, soft_wrap=True)
        records = [f"record {n}: {json.dumps(r, ensure_ascii=False)}" for n, r in enumerate(report.preview, 1) if dry_run]
        for line in (report.mapping_line(), *(f"note: {note}" for note in report.notes), *records):
            console.print(f"  {line}", highlight=False, soft_wrap=True, markup=False)


@import_app.command("posts")
def import_posts_cmd(
    files: FilesArg,
    fmt: FormatOpt = "auto",
    mapping: MapOpt = None,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
    dry_run: DryRunOpt = False,
) -> None:
    """Tweets and Reddit posts: CSV (columns recognised by meaning), X API v2 JSON, snscrape JSONL, Reddit listings."""
    with user_errors():
        do_import(files, "posts", fmt, mapping, None, config, lake, as_json, dry_run)


@import_app.command("prices")
def import_prices_cmd(
    files: FilesArg,
    fmt: FormatOpt = "auto",
    mapping: MapOpt = None,
    coin: Annotated[str | None, typer.Option("--coin", help="CoinGecko coin id, for price files that do not name their coin.")] = None,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
    as_json: JsonOpt = False,
    dry_run: DryRunOpt = False,
) -> None:
    """CoinGecko market_chart JSON, OHLCV CSV, and CoinGecko /coins/list and /coins/markets files."""
    with user_errors():
        do_import(files, "prices", fmt, mapping, coin, config, lake, as_json, dry_run)


@app.command()
def status(config: ConfigOpt = None, lake: LakeOpt = None) -> None:
    """What is published (version, tables, row counts), the last runs and the last check results."""
    from cryptopulse import status as status_mod

    with user_errors():
        target = lake_from(config, lake)
        info = status_mod.collect(target)
        print_published(info, target)
        print_runs(info)


def print_published(info: Status, lake: Lake) -> None:
    if info.version is None:
        console.print(f"nothing published yet in {lake.uri('published')} — run `cryptopulse run`", highlight=False)
        return
    days = f", last days [{info.interval[0]}, {info.interval[1]})" if info.interval else ""
    console.print(f"[bold]published version {info.version}[/] in {lake.uri('published')}: run {info.run_id} at {info.published_at}{days}",
                  highlight=False, soft_wrap=True)
    t = Table("table")
    t.add_column("rows", justify="right")
    for name, rows in info.tables:
        t.add_row(name, f"{rows:,}")
    console.print(t)


def print_runs(info: Status) -> None:
    if not info.runs:
        console.print("no runs recorded yet")
        return
    runs = Table("run", "interval", "status", "seconds", "published", title="last runs", title_justify="left")
    for r in info.runs:
        seconds = f"{r['seconds']:.2f}" if r.get("seconds") is not None else "-"
        runs.add_row(r["run_id"], f"[{r.get('interval_start')}, {r.get('interval_end')})", r.get("status", "?"), seconds,
                     str(r.get("published_version") or "-"))
    console.print(runs)
    for r in info.runs[:1]:
        if r.get("error"):
            console.print(f"last run's error: {r['error']}", highlight=False)
    if info.last_checks is not None:
        run_id, checks = info.last_checks
        failed = [c for c in checks if not c.get("passed")]
        console.print(f"last checks (run {run_id}): {len(checks) - len(failed)}/{len(checks)} passed")
        for c in failed:
            console.print(f"  [red]✗ {c.get('model')}.{c.get('check')}[/] {c.get('failing_rows')} rows, e.g. {c.get('example')}",
                          highlight=False)


@app.command()
def enrich(
    start: StartOpt = None,
    end: EndOpt = None,
    workers: Annotated[int | None, typer.Option(help="Scoring processes (default: every core).")] = None,
    rescore: Annotated[bool, typer.Option("--rescore", help="Score every post again, not only unscored ones.")] = False,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
    warehouse: WarehouseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score unscored posts (VADER + crypto lexicon), flag bots/spam, rebuild the marts, publish."""
    with user_errors():
        from cryptopulse.analysis.enrich import enrich as enrich_posts

        at_least(workers, 1, "--workers")
        report = enrich_posts(settings_from(config, lake, warehouse), interval_from(start, end), workers=workers, rescore=rescore)
        if as_json:
            print(json.dumps(report.as_dict(), default=str))
            return
        print_enrich_report(report)


def print_enrich_report(report: EnrichReport) -> None:
    if not report.rebuilt:
        console.print("nothing to score: every post already has a score")
        return
    flags = ", ".join(f"{k.removeprefix('is_').replace('_', ' ')} {v:,}" for k, v in report.flagged.items())
    console.print(
        f"[green]✓[/] scored {report.posts_scored:,} posts ({report.distinct_texts:,} distinct cleaned texts) "
        f"over {report.days_rewritten} days; flagged {report.flagged_posts:,} of {report.posts_in_days:,} posts "
        f"({flags}), kept but left out of the marts"
    )
    rows = ", ".join(f"{k} {v:,}" for k, v in report.models.items())
    console.print(f"rebuilt [{report.rebuilt[0]}, {report.rebuilt[1]}): {rows}")


@app.command()
def analyze(
    coin: Annotated[str | None, typer.Option("--coin", help="One coin id (default: every tracked coin).")] = None,
    max_lag: Annotated[int, typer.Option("--max-lag", help="Lags −N…+N hours for the cross-correlations; the VAR order cap.")] = 24,
    alpha: Annotated[float, typer.Option(help="Significance level after Holm correction (per coin).")] = 0.05,
    shuffle: Annotated[int | None, typer.Option("--shuffle", help="Placebo: permute the hours' posts in time with this seed.")] = None,
    charts: Annotated[bool, typer.Option("--charts/--no-charts", help="Write a PNG per coin to analysis/charts/ in the lake.")] = True,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
    warehouse: WarehouseOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print per coin the best lag, sign, corrected p and verdict.")] = False,
) -> None:
    """Does sentiment or post volume lead returns? Cross-correlations and Granger tests per coin, corrected."""
    with user_errors():
        from cryptopulse.analysis.analyze import analyze as analyze_coins

        report = analyze_coins(settings_from(config, lake, warehouse), coin, max_lag, alpha, shuffle, charts)
        if as_json:
            print(json.dumps(report.as_dict(), default=str))
            return
        for line in report.summary_lines():
            console.print(line, highlight=False)
        if report.charts:
            console.print(f"charts: {len(report.charts)} PNG files in {report.charts[0].rsplit('/', 1)[0]}")
        console.print("results: table analysis_lead_lag (one row per coin, series, test and lag)")


register_api(app)  # cryptopulse serve, cryptopulse api-key (src/cryptopulse/api/cli.py)
register_dashboard(app)  # cryptopulse dashboard (src/cryptopulse/dashboard/command.py)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
