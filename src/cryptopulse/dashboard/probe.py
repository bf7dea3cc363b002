"""Run `cryptopulse dashboard` as a child process and tell when a page is complete in a browser (tests, benchmark)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

# Debian's Chromium under Playwright on these machines (Playwright's own browser download cannot work here)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
# paths of the four pages (the first is the app's root)
PAGES = {"markets": "", "social": "social", "price-vs-sentiment": "price-vs-sentiment", "health": "health"}
# A page is complete when its footer (the last element) is drawn, nothing is left from the previous run or still
# loading, and every Plotly chart has drawn its SVG.
READY = """() => { const main = document.querySelector('[data-testid="stMain"]');
  if (!main || !main.innerText.includes('end of page')) return false;
  if (document.querySelector('[data-stale="true"], [data-testid="stSkeleton"]')) return false;
  return main.querySelectorAll('.js-plotly-plot .main-svg').length >= main.querySelectorAll('[data-testid="stPlotlyChart"]').length; }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(lake: str, port: int, timeout: float = 90) -> subprocess.Popen:
    """`cryptopulse dashboard --lake LAKE --port PORT`, returned once it answers its health check."""
    command = [str(Path(sys.executable).with_name("cryptopulse")), "dashboard", "--port", str(port), "--lake", lake]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the dashboard exited: {server.stdout.read().decode()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    stop(server)
    raise RuntimeError(f"the dashboard did not answer within {timeout:.0f} s")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
