"""Dashboard benchmark: first full render per page (cold and warm), time per interaction, 20 concurrent sessions.

    python bench/dashboard.py [--lake /work/ref/lake] [--sessions 20] [--warm 3] [--screenshots docs/img] [--json]

Starts `cryptopulse dashboard` over a published lake (not timed), then drives Debian's Chromium with Playwright:
- cold: each page opened once in a fresh session right after the server started (its queries not yet cached);
- warm: each page opened again in new sessions (`--warm` times; median and max);
- interactions on one session (pick a coin, change the resolution, the grain, a spike): the browser time from
  the input to the complete page, and the server's script time of that run (the page footer's "server N ms");
- `--sessions` browser sessions opening Markets at the same moment: how many rendered, p50/p95/max.
"Complete" means the page's footer is drawn, nothing stale or loading, every Plotly chart drawn (probe.READY).
The browser runs on the same machine as the server: its drawing competes for the same cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

from cryptopulse.dashboard.probe import CHROMIUM, CHROMIUM_ARGS, PAGES, READY, free_port, start, stop
from cryptopulse.lake import Lake
from cryptopulse.read import open_snapshot

VIEWPORT = {"width": 1400, "height": 1000}


async def load(browser: Browser, url: str, screenshot: Path | None = None) -> tuple[float, int]:
    """Open `url` in a new session; seconds to the complete page, and the server ms of that run."""
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    started = time.perf_counter()
    await page.goto(url)
    await page.wait_for_function(READY, timeout=120_000)
    seconds = time.perf_counter() - started
    server_ms = await footer_ms(page)
    if screenshot is not None:
        await full_screenshot(page, screenshot)
    await context.close()
    return seconds, server_ms


async def footer_ms(page: Page) -> int:
    text = await page.inner_text('[data-testid="stMain"]')
    return int(re.search(r"server (\d+) ms · end of page", text)[1])


async def full_screenshot(page: Page, path: Path) -> None:
    height = await page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    await page.set_viewport_size({"width": VIEWPORT["width"], "height": min(max(height, 1000), 6000)})
    await page.wait_for_function(READY, timeout=60_000)
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(path))


async def interact(page: Page, name: str, action: Callable[[Page], Awaitable[None]], done: str) -> dict[str, object]:
    """Run one input; time until `done` (a JS expression) holds on a complete page."""
    started = time.perf_counter()
    await action(page)
    await page.wait_for_function(f"() => ({done}) && ({READY})()", timeout=120_000)
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


def heading(text: str) -> str:
    return f"document.querySelector('h1') && document.querySelector('h1').innerText.includes({json.dumps(text)})"


def main_has(text: str) -> str:
    return f"document.querySelector('[data-testid=\"stMain\"]').innerText.includes({json.dumps(text)})"


async def interactions(browser: Browser, url: str, coins: list[str]) -> list[dict[str, object]]:
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    await page.goto(url)
    await page.wait_for_function(READY, timeout=120_000)
    steps = [
        ("markets: pick another coin (cold)", pick("Coin", coins[1]), heading(coins[1])),
        ("markets: daily resolution", press("daily"), main_has("daily candles")),
        ("markets: hourly resolution", press("hourly"), main_has("hourly points")),
        ("markets: pick the first coin again (warm)", pick("Coin", coins[0]), heading(coins[0])),
    ]
    results = [await interact(page, *step) for step in steps]
    await page.goto(f"{url}/social")
    await page.wait_for_function(READY, timeout=120_000)
    spike = page.locator('[data-testid="stSelectbox"]').filter(has_text="Pick a").locator("input")
    results.append(await interact(page, "social: per hour", press("hour"), main_has("Pick an hour")))
    before = await spike.input_value()
    results.append(await interact(page, "social: next spike", next_option,
                                  f"document.querySelector('input[aria-label^=\"Pick an\"]').value !== {json.dumps(before)}"))
    results.append(await interact(page, "social: per day", press("day"), main_has("Pick a day")))
    await context.close()
    return results


async def concurrent(browser: Browser, url: str, sessions: int) -> dict[str, object]:
    started = time.perf_counter()
    outcomes = await asyncio.gather(*(load(browser, url) for _ in range(sessions)), return_exceptions=True)
    times = sorted(o[0] for o in outcomes if not isinstance(o, BaseException))
    errors = [repr(o)[:200] for o in outcomes if isinstance(o, BaseException)]
    return {
        "sessions": sessions, "rendered": len(times), "errors": errors, "wall_s": round(time.perf_counter() - started, 3),
        "p50_s": round(statistics.median(times), 3) if times else None,
        "p95_s": round(times[max(0, round(0.95 * len(times)) - 1)], 3) if times else None,
        "max_s": round(times[-1], 3) if times else None,
    }


async def measure(args: argparse.Namespace, url: str, coins: list[str]) -> dict[str, object]:
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        cold = {}
        for name, path in PAGES.items():
            shot = Path(args.screenshots) / f"dashboard-{name}.png" if args.screenshots else None
            seconds, server_ms = await load(browser, f"{url}/{path}", shot)
            cold[name] = {"browser_s": round(seconds, 3), "server_ms": server_ms}
        warm = {name: [await load(browser, f"{url}/{path}") for _ in range(args.warm)] for name, path in PAGES.items()}
        steps = await interactions(browser, url, coins)
        crowd = await concurrent(browser, url, args.sessions)
        await browser.close()
    return {
        "cold": cold,
        "warm": {name: {"median_s": round(statistics.median(s for s, _ in runs), 3), "max_s": round(max(s for s, _ in runs), 3),
                        "server_ms_median": statistics.median(ms for _, ms in runs)} for name, runs in warm.items()},
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
