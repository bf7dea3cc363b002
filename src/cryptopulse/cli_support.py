"""What every command shares: its option types, settings and interval from them, a user's mistake as one line and exit 2."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from cryptopulse.config import ConfigError, Settings, load_settings
from cryptopulse.engines import EngineError
from cryptopulse.extras import missing_extra
from cryptopulse.interval import Interval, IntervalError
from cryptopulse.lake import Lake, LakeError
from cryptopulse.pipeline import GateFailed, NothingToRun


class UsageError(Exception):
    """A mistake in a command's options or arguments: one line, exit code 2 (`user_errors`)."""


err = Console(stderr=True, soft_wrap=True)



@functools.cache
def user_error_types() -> tuple[type[BaseException], ...]:
    """The errors a user causes (one line, exit 2). Those of the sources, importers and readers are imported here,
    when an error is being judged, so that a command that does not use them does not load them (httpx, …)."""
    from cryptopulse.sources.http import SourceError
    from cryptopulse.sources.importers.errors import ImportFileError
    from cryptopulse.status import QueryRefused

    return (
        UsageError, ConfigError, IntervalError, LakeError, EngineError, NothingToRun, SourceError, ImportFileError,
        QueryRefused, FileNotFoundError, PermissionError, NotADirectoryError, IsADirectoryError, FileExistsError,
    )


ConfigOpt = Annotated[str | None, typer.Option("--config", help="TOML settings file (default: ./cryptopulse.toml if present).")]
LakeOpt = Annotated[str | None, typer.Option("--lake", help="Lake root (default: $CRYPTOPULSE_LAKE or ./data/lake).")]
WarehouseOpt = Annotated[str | None, typer.Option("--warehouse", help="Warehouse (default: $CRYPTOPULSE_WAREHOUSE).")]
StartOpt = Annotated[str | None, typer.Option("--start", help="First day (YYYY-MM-DD), inclusive.")]
EndOpt = Annotated[str | None, typer.Option("--end", help="Day after the last (YYYY-MM-DD), exclusive.")]
WaitOpt = Annotated[bool, typer.Option("--wait", help="If another run holds the lake, wait for it instead of refusing.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
HostOpt = Annotated[str, typer.Option("--host", help="Address to listen on (127.0.0.1: this machine only).")]
PortOpt = Annotated[int, typer.Option("--port", help="Port to listen on.")]


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a user's mistake into one line on stderr and exit code 2; a failed gate into exit code 1."""
    try:
        yield
    except GateFailed as e:
        err.print(f"[bold red]✗ {escape(str(e))}[/]")
        for f in e.failures[1:]:
            err.print(f"  also failed: {f.label} ({f.failing_rows} rows)")
        err.print("Nothing was published; the warehouse keeps its previous state. See `cryptopulse status`.")
        raise typer.Exit(1) from None
    except Exception as e:
        if isinstance(e, user_error_types()):
            err.print(f"[red]error:[/] {escape(one_line(e))}", highlight=False)
            raise typer.Exit(2) from None
        extra = missing_extra(e) if isinstance(e, ImportError) else None  # an optional extra that is not installed
        if extra is None:  # any other error is a bug: its traceback is what to report
            raise
        err.print(f"[red]error:[/] {escape(str(extra))}", highlight=False)
        raise typer.Exit(2) from None


def one_line(error: Exception) -> str:
    """The error as one line; an OSError names its file first."""
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror}"
    return " ".join(str(error).split()) or type(error).__name__


def settings_from(config: str | None, lake: str | None = None, warehouse: str | None = None) -> Settings:
    """The settings: these options over the environment over the config file."""
    return load_settings(config, lake=lake, warehouse=warehouse)


def lake_from(config: str | None, lake: str | None) -> Lake:
    """The lake the options (or the environment, or the config file) name."""
    return Lake(settings_from(config, lake).lake)


def interval_from(start: str | None, end: str | None) -> Interval | None:
    """The days `--start`/`--end` give, or None for neither (every day there is)."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise IntervalError("give both --start and --end (a half-open interval of days), or neither")
    return Interval.parse(start, end)


def at_least(value: float | None, least: float, option: str) -> None:
    """Refuse `option`'s value below `least` (None: not given)."""
    if value is not None and value < least:
        raise UsageError(f"{option} must be at least {least:g}, got {value:g}")


def positive(value: float | None, option: str) -> None:
    """Refuse `option`'s value unless it is above 0 (None: not given)."""
    if value is not None and value <= 0:
        raise UsageError(f"{option} must be positive, got {value:g}")


def check_port(port: int) -> None:
    """Refuse a port outside 1–65535."""
    if not 0 < port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, got {port}")
