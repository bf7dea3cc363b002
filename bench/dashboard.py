"""Dashboard benchmark: first full render per page (cold and warm), time per interaction, 20 concurrent sessions.

    python bench/dashboard.py [--lake /work/ref/lake] [--sessions 20] [--warm 3] [--screenshots docs/img] [--json]

Starts `cryptopulse dashboard` over a published lake (not timed), then drives Debian's Chromium with Playwright:
- cold: each page opened once, right after the server started, in a new browser profile (nothing cached: not the
  browser's copy of the app's scripts, not the server's query results);
- warm, new tab: each page opened again in a new tab (a new session; `--warm` times; median and max) of a browser
  that has the app's scripts cached, as for a returning user; the server's query results are cached too;
- warm, in the app: each page reached through its sidebar link in one session (`--warm` rounds), as a user moves
  between pages (the tab has loaded the app's scripts, Plotly's included);
- interactions on one session (pick a coin, change the resolution, the grain, a spike): the browser time from
  the input to the complete page, and the server's script time of that run (the page footer's "server N ms");
- `--sessions` sessions (tabs of one warm browser) opening Markets at the same moment: how many rendered, p50/p95/max.
"Complete" means the page's footer is drawn, nothing stale or loading, every Plotly chart drawn (probe.READY).
The browser runs on the same machine as the server: its drawing competes for the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from playwright.async_api import BrowserContext, Page, async_playwright

from cryptopulse.dashboard.probe import CHROMIUM, CHROMIUM_ARGS, PAGES, READY, free_port, start, stop
from cryptopulse.lake import Lake
from cryptopulse.read import open_snapshot

VIEWPORT = {"width": 1400, "height": 1000}
TIMEOUT_MS = 180_000


async def load(context: BrowserContext, url: str, screenshot: Path | None = None) -> tuple[float, float]:
    """Open `url` in a new tab (a new session); seconds to the complete page, and the server ms of that run."""
    page = await context.new_page()
    started = time.perf_counter()
    await page.goto(url, timeout=TIMEOUT_MS)
    await page.wait_for_function(READY, timeout=TIMEOUT_MS)
    seconds = time.perf_counter() - started
    server_ms = await footer_ms(page)
    if screenshot is not None:
        await full_screenshot(page, screenshot)
    await page.close()
    return seconds, server_ms


async def footer(page: Page) -> str:
    text = await page.inner_text('[data-testid="stMain"]')
    return re.search(r"server [\d.]+ ms · end of page", text)[0]


async def footer_ms(page: Page) -> float:
    return float(re.search(r"[\d.]+", await footer(page))[0])


async def full_screenshot(page: Page, path: Path) -> None:
    height = await page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    await page.set_viewport_size({"width": VIEWPORT["width"], "height": min(max(height, 1000), 6000)})
    await page.wait_for_function(READY, timeout=TIMEOUT_MS)
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(path))


async def interact(page: Page, name: str, action: Callable[[Page], Awaitable[None]], done: str) -> dict[str, object]:
    """Run one input; time until `done` (a JS expression) holds on a complete page with a new footer (a new run)."""
    before = json.dumps(await footer(page))
    started = time.perf_counter()
    await action(page)
    await page.wait_for_function(f"() => ({done}) && !{main_has_js(before)} && ({READY})()", timeout=TIMEOUT_MS)
    return {"interaction": name, "browser_s": round(time.perf_counter() - started, 3), "server_ms": await footer_ms(page)}


def pick(label: str, option: str) -> Callable[[Page], Awaitable[None]]:
    async def action(page: Page) -> None:
        await page.locator('[data-testid="stSelectbox"]').filter(has_text=label).click()
        await page.keyboard.type(option)
        await page.keyboard.press("Enter")
    return action


def press(option: str) -> Callable[[Page], Awaitable[None]]:
    """Press an option of a segmented control (options are unique on a page)."""
    async def action(page: Page) -> None:
        await page.get_by_role("radio", name=option, exact=True).click()
    return action


async def next_option(page: Page) -> None:
    await page.locator('[data-testid="stSelectbox"]').filter(has_text="Pick a").click()
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("Enter")


async def navigate(context: BrowserContext, url: str, rounds: int) -> dict[str, list[tuple[float, float]]]:
    """Each page through its sidebar link, `rounds` times round the four pages, in one session."""
    page = await context.new_page()
    await page.goto(url, timeout=TIMEOUT_MS)
    await page.wait_for_function(READY, timeout=TIMEOUT_MS)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in PAGES}
    for _ in range(rounds):
        for name in [*list(PAGES)[1:], next(iter(PAGES))]:  # away from the first page, and back to it last
            link = page.locator('[data-testid="stSidebarNav"] a').nth(list(PAGES).index(name))
            step = await interact(page, name, lambda p, link=link: link.click(), "true")
            times[name].append((step["browser_s"], step["server_ms"]))
    await page.close()
    return times


def summary(runs: list[tuple[float, float]]) -> dict[str, float]:
    return {"median_s": round(statistics.median(s for s, _ in runs), 3), "max_s": round(max(s for s, _ in runs), 3),
            "server_ms_median": statistics.median(ms for _, ms in runs)}


def heading(text: str) -> str:
    return f"document.querySelector('h1') && document.querySelector('h1').innerText.includes({json.dumps(text)})"


def main_has(text: str) -> str:
    return main_has_js(json.dumps(text))


def main_has_js(literal: str) -> str:
    return f"document.querySelector('[data-testid=\"stMain\"]').innerText.includes({literal})"


async def interactions(context: BrowserContext, url: str, coins: list[str]) -> list[dict[str, object]]:
    page = await context.new_page()
    await page.goto(url, timeout=TIMEOUT_MS)
    await page.wait_for_function(READY, timeout=TIMEOUT_MS)
    steps = [
        ("markets: pick another coin (cold)", pick("Coin", coins[1]), heading(coins[1])),
        ("markets: daily resolution", press("daily"), main_has("daily candles")),
        ("markets: hourly resolution", press("hourly"), main_has("hourly points")),
        ("markets: pick the first coin again (warm)", pick("Coin", coins[0]), heading(coins[0])),
    ]
    results = [await interact(page, *step) for step in steps]
    await page.goto(f"{url}/social", timeout=TIMEOUT_MS)
    await page.wait_for_function(READY, timeout=TIMEOUT_MS)
    results.append(await interact(page, "social: per hour", press("hour"), main_has("Pick an hour")))
    results.append(await interact(page, "social: next spike", next_option, "true"))
    results.append(await interact(page, "social: per day", press("day"), main_has("Pick a day")))
    await page.close()
    return results


async def concurrent(context: BrowserContext, url: str, sessions: int) -> dict[str, object]:
    started = time.perf_counter()
    outcomes = await asyncio.gather(*(load(context, url) for _ in range(sessions)), return_exceptions=True)
    done = [o for o in outcomes if not isinstance(o, BaseException)]
    errors = [repr(o)[:200] for o in outcomes if isinstance(o, BaseException)]
    return {"sessions": sessions, "rendered": len(done), "errors": errors, "wall_s": round(time.perf_counter() - started, 3),
            "browser_s": percentiles([s for s, _ in done]), "server_ms": percentiles([ms for _, ms in done])}


def percentiles(values: list[float]) -> dict[str, float] | None:
    """p50, p95 (nearest rank) and max."""
    if not values:
        return None
    ranked = sorted(values)
    return {"p50": round(statistics.median(ranked), 3), "p95": round(ranked[max(0, math.ceil(0.95 * len(ranked)) - 1)], 3),
            "max": round(ranked[-1], 3)}


async def measure(args: argparse.Namespace, url: str, coins: list[str]) -> dict[str, object]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        cold = {}
        for name, path in PAGES.items():
            shot = Path(args.screenshots) / f"dashboard-{name}.png" if args.screenshots else None
            fresh = await browser.new_context(viewport=VIEWPORT)
            seconds, server_ms = await load(fresh, f"{url}/{path}", shot)
            await fresh.close()
            cold[name] = {"browser_s": round(seconds, 3), "server_ms": server_ms}
        returning = await browser.new_context(viewport=VIEWPORT)
        await load(returning, url)  # the browser caches the app's scripts
        warm = {name: [await load(returning, f"{url}/{path}") for _ in range(args.warm)] for name, path in PAGES.items()}
        in_app = await navigate(returning, url, args.warm)
        steps = await interactions(returning, url, coins)
        crowd = await concurrent(returning, url, args.sessions)
        await browser.close()
    return {
        "cold": cold,
        "warm_new_tab": {name: summary(runs) for name, runs in warm.items()},
        "warm_in_app": {name: summary(runs) for name, runs in in_app.items()},
        "interactions": steps,
        "concurrent_markets": crowd,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", default="/work/ref/lake")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--warm", type=int, default=3)
    parser.add_argument("--screenshots", default=None, help="folder for a full screenshot of each page (cold load)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with open_snapshot(Lake(args.lake)) as snap:
        version = snap.version
        rows = snap.cursor().execute("SELECT count(*) FROM fct_post").fetchone()[0]
        coins = [f"{n} ({s.upper()})" for n, s in snap.cursor().execute(
            "SELECT name, symbol FROM dim_coin WHERE is_tracked ORDER BY market_cap_rank NULLS LAST, coin_id LIMIT 2").fetchall()]
    port = free_port()
    load_before = os.getloadavg()
    started = time.perf_counter()
    server = start(args.lake, port)
    startup = time.perf_counter() - started
    try:
        result = asyncio.run(measure(args, f"http://127.0.0.1:{port}", coins))
    finally:
        stop(server)
    result = {"lake": args.lake, "published_version": version, "posts": rows, "server_start_s": round(startup, 2),
              "load_before": load_before, "load_after": os.getloadavg(), "cores": os.cpu_count(),
              "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), **result}
    if args.json:
        print(json.dumps(result))
    else:
        json.dump(result, sys.stdout, indent=1)
        print()


if __name__ == "__main__":
    main()
