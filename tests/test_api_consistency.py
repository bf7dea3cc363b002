"""A real uvicorn server on 127.0.0.1 while versions are published under it: no answer mixes two versions.

Each new version multiplies every price by its own factor (bench/api.py `publish_marked`), so an answer's prices
prove which version they came from; they must be the version its X-Published-Version header names.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from conftest import settings_for
from cryptopulse.api.app import create_app
from cryptopulse.api.keys import create_key
from cryptopulse.api.settings import load_api_settings
from cryptopulse.config import Settings
from cryptopulse.lake import Lake
from test_api import api_lake  # noqa: F401  (the shared published lake)

_spec = importlib.util.spec_from_file_location("bench_api", Path(__file__).parents[1] / "bench" / "api.py")
bench_api = sys.modules["bench_api"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_api)

CLIENTS = 4
PUBLISHES = 4


@pytest.fixture
def server(api_lake: Settings, tmp_path: Path) -> Iterator[tuple[str, FastAPI, Path]]:  # noqa: F811
    """(base URL, app, lake root) of a uvicorn server in a thread, over a private copy of the published lake."""
    shutil.copytree(Path(api_lake.lake) / "published", tmp_path / "lake" / "published")
    settings = settings_for(tmp_path)
    app = create_app(settings, load_api_settings({}, version_check=0, rate=1e6, burst=1_000_000))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", app, Path(settings.lake)
    uv.should_exit = True
    thread.join(timeout=10)


def test_no_answer_mixes_versions_while_new_ones_are_published(server: tuple[str, FastAPI, Path]) -> None:
    base_url, app, lake = server
    key = {"X-API-Key": create_key(Lake(lake), "consistency")[1]}
    url = f"{base_url}/v1/coins/bitcoin/market/hourly?start=2024-05-11&end=2024-06-01"
    first = httpx.get(url, headers=key, timeout=30)
    base_prices = [r["price_usd"] for r in first.json()["rows"]]
    factors = {first.headers["X-Published-Version"]: 1.0}
    base = json.loads((lake / "published" / "_manifest.json").read_text())
    answers: list[tuple[int, str | None, list[float]]] = []
    done = threading.Event()

    def ask() -> None:
        with httpx.Client(timeout=30) as client:
            while not done.is_set():
                r = client.get(url, headers=key)
                prices = [row["price_usd"] for row in r.json()["rows"]] if r.status_code == 200 else []
                answers.append((r.status_code, r.headers.get("X-Published-Version"), prices))

    clients = [threading.Thread(target=ask) for _ in range(CLIENTS)]
    for c in clients:
        c.start()
    for factor in range(2, 2 + PUBLISHES):
        time.sleep(0.3)
        factors[bench_api.publish_marked(lake, base, float(factor))] = float(factor)
    time.sleep(0.3)
    done.set()
    for c in clients:
        c.join()

    assert base_prices and {status for status, _, _ in answers} == {200}
    seen = {version for _, version, _ in answers}
    assert len(seen) >= 3, f"the publishes were not seen by the clients: {seen}"
    for _, version, prices in answers:
        assert prices == [p * factors[version] for p in base_prices], f"an answer named version {version} but holds other prices"
    versions = app.state.api.versions
    deadline = time.monotonic() + 20
    while versions.current() != max(factors, key=int):  # let the last publish finish opening
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert versions.opened >= len(seen)
    while versions.closed < versions.opened - 1 and time.monotonic() < deadline:  # retiring is asynchronous too
        time.sleep(0.05)
    assert versions.closed == versions.opened - 1, "a retired snapshot was left open after its last request"


def test_a_new_version_changes_the_etag(server: tuple[str, FastAPI, Path]) -> None:
    base_url, _, lake = server
    key = {"X-API-Key": create_key(Lake(lake), "etag")[1]}
    url = f"{base_url}/v1/coins/bitcoin/market/hourly?start=2024-05-20&end=2024-05-21"
    first = httpx.get(url, headers=key)
    assert httpx.get(url, headers={**key, "If-None-Match": first.headers["ETag"]}).status_code == 304
    version = bench_api.publish_marked(lake, json.loads((lake / "published" / "_manifest.json").read_text()), 2.0)
    deadline = time.monotonic() + 20  # the new version opens in the background; the old one answers meanwhile
    while (after := httpx.get(url, headers={**key, "If-None-Match": first.headers["ETag"]})).status_code == 304:
        assert after.headers["X-Published-Version"] == first.headers["X-Published-Version"] and time.monotonic() < deadline
        time.sleep(0.05)
    assert after.status_code == 200 and after.headers["X-Published-Version"] == version != first.headers["X-Published-Version"]
    assert [r["price_usd"] for r in after.json()["rows"]] == [2.0 * r["price_usd"] for r in first.json()["rows"]]
