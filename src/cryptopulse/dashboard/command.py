"""`cryptopulse dashboard`: check the port and the extra, then hand the process over to Streamlit serving `app.py`."""

from __future__ import annotations

import importlib.util
import os
import socket
import sys
from pathlib import Path

import typer

from cryptopulse.cli_support import ConfigOpt, HostOpt, LakeOpt, PortOpt, UsageError, check_port, settings_from, user_errors

APP = Path(__file__).with_name("app.py")


class DashboardError(UsageError):
    """The dashboard cannot start (missing extra, port taken)."""


def register(app: typer.Typer) -> None:
    """Add `dashboard` to the main command line."""
    app.command("dashboard")(dashboard)


def dashboard(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = 8501,
    config: ConfigOpt = None,
    lake: LakeOpt = None,
) -> None:
    """Serve the dashboard over the published version: markets, social, price vs sentiment, data health."""
    with user_errors():
        settings = settings_from(config, lake)
        argv = streamlit_argv(host, port)
    env = dict(os.environ, CRYPTOPULSE_LAKE=_absolute(settings.lake), CRYPTOPULSE_FRESHNESS_HOURS=str(settings.freshness_hours))
    if config:
        env["CRYPTOPULSE_CONFIG"] = str(Path(config).absolute())
    print(f"cryptopulse dashboard on http://{host}:{port} over {env['CRYPTOPULSE_LAKE']} (Ctrl-C stops it)", flush=True)
    os.execve(sys.executable, argv, env)


def streamlit_argv(host: str, port: int) -> list[str]:
    """The Streamlit command line, after checking that Streamlit is installed and the port is free."""
    if importlib.util.find_spec("streamlit") is None or importlib.util.find_spec("plotly") is None:
        raise DashboardError("the dashboard needs the `dashboard` extra: pip install 'cryptopulse[dashboard]' (or `make dashboard`)")
    check_port(port)
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: a closed socket's TIME_WAIT does not block
        try:
            probe.bind((host, port))
        except OSError as e:
            raise DashboardError(f"cannot listen on {host}:{port}: {e.strerror} (choose another --port)") from None
    options = {
        "server.address": host,
        "server.port": port,
        "server.headless": "true",
        "server.fileWatcherType": "none",
        "server.runOnSave": "false",
        "browser.gatherUsageStats": "false",
        "client.showErrorDetails": "none",
        "client.toolbarMode": "viewer",
        "global.developmentMode": "false",
    }
    return [sys.executable, "-m", "streamlit", "run", str(APP), *(f"--{k}={v}" for k, v in options.items())]


def _absolute(lake: str) -> str:
    return lake if "://" in lake else str(Path(lake).absolute())
