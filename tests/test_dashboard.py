"""The dashboard in a real browser: Chromium (Playwright) against `cryptopulse dashboard` over a small lake.

The server starts over an empty lake (every page says "no data yet"), then the lake is published while it runs:
three weeks of the small synthetic dataset, sentiment, the lead–lag analysis, and a failed quality gate. Every
number a test reads off a page is compared with SQL on the same published version. Screenshots of every page go
to test-artifacts/dashboard/.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from conftest import settings_for
from cryptopulse.analysis.analyze import analyze
from cryptopulse.analysis.enrich import enrich
from cryptopulse.cli import app
from cryptopulse.config import Settings
from cryptopulse.dashboard import fmt, verdict
from cryptopulse.dashboard.probe import CHROMIUM, CHROMIUM_ARGS, PAGES, READY, free_port, start, stop
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.pipeline import GateFailed, build_step, publish_step, run
from cryptopulse.read import open_snapshot, queries

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "dashboard"
FIRST, SECOND = Interval.parse("2024-05-11", "2024-05-25"), Interval.parse("2024-05-25", "2024-06-01")
NO_DATA = "no data yet — run cryptopulse run"
TITLES = {"markets": "Markets", "social": "Social", "price-vs-sentiment": "Price vs sentiment", "health": "Data health"}


@dataclass
class Site:
    url: str
    settings: Settings
    server: subprocess.Popen
    empty: dict[str, str] = field(default_factory=dict)  # page -> its text while nothing was published

    def sql(self, query: str, params: list | None = None) -> list[tuple]:
        """A query on the current published version, through the same snapshot the dashboard reads."""
        with open_snapshot(Lake(self.settings.lake)) as snap:
            return snap.cursor().execute(query, params or []).fetchall()

    def version(self) -> str:
        with open_snapshot(Lake(self.settings.lake)) as snap:
            return snap.version


def publish_small_lake(settings: Settings) -> None:
    """Two weeks published, scored and analysed; then a build whose gate fails and a publish that records it."""
    run(settings, FIRST)
    enrich(settings)
    analyze(settings, max_lag=6, charts=False)
    staged = Path(settings.lake) / "staged/coin_hourly/date=2024-05-12/part-0.csv"
    clean = staged.read_text()
    staged.write_text(clean + "ethereum,2024-05-12 05:00:00,1715490000000,-5.0,1.0,1.0,test,x,2024-05-12\n")
    with pytest.raises(GateFailed):
        build_step(settings, Interval.parse("2024-05-12", "2024-05-13"))
    staged.write_text(clean)
    publish_step(settings, Interval.parse("2024-05-12", "2024-05-13"))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser: Browser) -> Iterator[Page]:
    """One browser session for the whole module: pages are reached through the sidebar, as a user does."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def site(small_raw: Path, tmp_path_factory: pytest.TempPathFactory, page: Page) -> Iterator[Site]:
    """The server, started over an empty lake (each page's text kept), then the lake published under it."""
    root = tmp_path_factory.mktemp("dashboard")
    shutil.copytree(small_raw, root / "lake")
    settings = settings_for(root)
    port = free_port()
    server = start(settings.lake, port)
    site = Site(f"http://127.0.0.1:{port}", settings, server)
    try:
        open_page(page, site)
        for name in TITLES:
            site.empty[name] = show(page, site, name)
        publish_small_lake(settings)
        yield site
    finally:
        stop(server)


def open_page(page: Page, site: Site) -> str:
    """Load the dashboard's first page in the session (a full page load)."""
    page.goto(site.url)
    page.wait_for_function(READY, timeout=60_000)
    return main_text(page)


def show(page: Page, site: Site, name: str) -> str:
    """Go to a page through the sidebar link, as a user does; its text once complete."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=TITLES[name]).click()
    page.wait_for_url(re.compile(re.escape(f"{site.url}/{PAGES[name]}") + r"(\?[^/]*)?(#.*)?$"))
    page.wait_for_function(READY, timeout=60_000)
    return main_text(page)


def main_text(page: Page) -> str:
    return page.inner_text('[data-testid="stMain"]')


def metric(page: Page, label: str) -> str:
    """The value of the metric whose label is exactly `label`."""
    exact = page.locator('[data-testid="stMetricLabel"]', has_text=re.compile(f"^{re.escape(label)}$"))
    return page.locator('[data-testid="stMetric"]').filter(has=exact).locator('[data-testid="stMetricValue"]').inner_text()


def number(text: str) -> float:
    return float(re.sub(r"[^0-9.+\-e]", "", text))


def eventually(page: Page, read, expected, timeout: float = 30) -> None:
    """Wait until `read(page)` equals `expected` on a complete page (an interaction's rerun has landed), then assert it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.wait_for_function(READY, timeout=60_000)
        if read(page) == expected:
            break
        page.wait_for_timeout(200)
    assert read(page) == expected


def traces(page: Page, chart: int = 0) -> dict[str, dict[str, list]]:
    """The drawn data of a Plotly chart on the page, per trace name: x and y as the browser holds them."""
    return page.evaluate(
        """(i) => Object.fromEntries(document.querySelectorAll('.js-plotly-plot')[i]._fullData
             .map(t => [t.name, {x: Array.from(t.x || []), y: Array.from(t.y || [])}]))""",
        chart,
    )


def pick(page: Page, label: str, option: str) -> None:
    """Choose `option` in the select box labelled `label` by typing it, as a user does."""
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).click()
    page.keyboard.type(option)
    page.keyboard.press("Enter")


def check_page(page: Page, site: Site, name: str) -> None:
    """No exception or failure line, the footer names the current published version; then a full-height screenshot."""
    text = main_text(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "could not draw this page" not in text and "Traceback" not in text
    assert f"published version {site.version()}" in text
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": 1400, "height": min(max(height, 1000), 6000)})
    page.wait_for_function(READY)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})


def coin_label(site: Site, coin_id: str) -> str:
    name, symbol = site.sql("SELECT name, symbol FROM dim_coin WHERE coin_id = ?", [coin_id])[0]
    return f"{name} ({symbol.upper()})"


def largest_coin(site: Site) -> str:
    return site.sql("SELECT coin_id FROM dim_coin WHERE is_tracked ORDER BY market_cap_rank LIMIT 1")[0][0]


def test_an_empty_lake_says_no_data_yet_on_every_page(site):
    for name, text in site.empty.items():
        assert NO_DATA in text, name
        assert "Traceback" not in text and "could not draw this page" not in text, name


def test_markets_shows_the_chosen_coins_last_price_and_hours_as_sql_says(site, page):
    coin = largest_coin(site)
    text = show(page, site, "markets")  # the first interaction since the publish: the data is there
    assert f"Markets — {coin_label(site, coin)}" in text
    (price, hours), = site.sql(
        "SELECT arg_max(price_usd, ts_hour), count(*) FROM fct_coin_hourly WHERE coin_id = ? AND date < ?", [coin, FIRST.end])
    assert number(metric(page, "Last price (USD)")) == pytest.approx(price, abs=0.005)
    assert number(metric(page, "Hours with a price")) == hours
    drawn = traces(page)["price"]
    assert len(drawn["y"]) == hours and drawn["y"][-1] == pytest.approx(price, rel=1e-12)
    check_page(page, site, "markets")


def test_changing_the_coin_and_the_dates_redraws_markets(site, page):
    coin = site.sql("SELECT coin_id FROM dim_coin WHERE is_tracked ORDER BY market_cap_rank LIMIT 1 OFFSET 1")[0][0]
    pick(page, "Coin", coin_label(site, coin))
    (price,), = site.sql("SELECT arg_max(price_usd, ts_hour) FROM fct_coin_hourly WHERE coin_id = ?", [coin])
    eventually(page, lambda p: number(metric(p, "Last price (USD)")), pytest.approx(price, abs=0.005))

    dates = page.locator('[data-testid="stSidebar"] [data-testid="stDateInput"]')
    dates.locator('[data-range-field="start"] [data-type="day"]').click()
    page.keyboard.type("15")
    dates.locator('[data-range-field="end"] [data-type="day"]').click()
    page.keyboard.type("18")
    page.locator("h1").click()  # leaving the field commits the range
    (hours, first, last), = site.sql(
        "SELECT count(*), min(ts_hour), max(ts_hour) FROM fct_coin_hourly WHERE coin_id = ? AND date BETWEEN ? AND ?",
        [coin, dt.date(2024, 5, 15), dt.date(2024, 5, 18)])
    eventually(page, lambda p: number(metric(p, "Hours with a price")), hours)
    drawn = traces(page)["price"]
    assert len(drawn["y"]) == hours
    assert [dt.datetime.fromisoformat(drawn["x"][i]) for i in (0, -1)] == [first, last]
    assert "dates=2024-05-15&dates=2024-05-18" in page.url  # the view can be shared as a link
    open_page(page, site)  # a fresh session for the next tests: the first coin, the default dates


def day_posts(site: Site, coin: str, day: dt.date) -> tuple[int, int]:
    """Posts naming the coin created that UTC day, and how many of them are flagged as bot/spam."""
    return site.sql(
        """SELECT count(*), count(*) FILTER (WHERE s.is_flagged)
           FROM bridge_post_coin b JOIN fct_post p USING (source, post_id)
           LEFT JOIN fct_post_sentiment s USING (source, post_id)
           WHERE b.coin_id = ? AND CAST(p.created_at AS DATE) = ?""", [coin, day])[0]


def test_social_counts_and_the_posts_behind_a_spike_equal_sql(site, page):
    coin = largest_coin(site)
    show(page, site, "social")
    (posts, flagged), = site.sql("SELECT sum(posts), sum(flagged_posts) FROM mart_coin_daily WHERE coin_id = ?", [coin])
    assert number(metric(page, "Posts (bot/spam left out)")) == posts
    assert number(metric(page, "Flagged as bot/spam")) == flagged
    assert sum(traces(page)["posts"]["y"]) == posts

    spike = page.locator('[data-testid="stSelectbox"]').filter(has_text="Pick a day")
    label = f"Posts naming {coin_label(site, coin)} in this day"
    days = []
    for move in (False, True):  # the spike shown first, then the next one in the list
        if move:
            spike.click()
            page.keyboard.press("ArrowDown")
            page.keyboard.press("Enter")
        days.append(dt.date.fromisoformat(spike.locator("input").input_value()[:10]))
        total, bots = day_posts(site, coin, days[-1])
        eventually(page, lambda p: number(metric(p, label)), total)
        assert number(metric(page, "of them flagged as bot/spam")) == bots
        assert total > 0
    assert days[0] != days[1]
    check_page(page, site, "social")


def test_social_z_scores_and_the_sentiment_band_agree_with_pandas(site):
    """z-scores against the coin's trailing 20 days (at least 10 present) and the 95 % band, computed here from the marts and posts."""
    coin = largest_coin(site)
    daily = pd.DataFrame(site.sql("SELECT date, posts, flagged_posts, social_dominance, sentiment_mean FROM mart_coin_daily "
                                  "WHERE coin_id = ? ORDER BY date", [coin]),
                         columns=["date", "posts", "flagged", "dominance", "mean"])
    with open_snapshot(Lake(site.settings.lake)) as snap:
        got = queries.social_series(snap.cursor(), coin, daily["date"].min(), FIRST.end, "day").to_pandas()
    for column, values in (("posts_z", daily["posts"]), ("dominance_z", daily["dominance"]),
                           ("bot_share_z", daily["flagged"] / (daily["posts"] + daily["flagged"]))):
        previous = values.astype(float).shift(1).rolling(20, min_periods=10)
        expected = (values - previous.mean()) / previous.std()
        assert expected.notna().sum() >= 3
        assert got[column].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-9, nan_ok=True), column
    posts = pd.DataFrame(site.sql(
        """SELECT b.date, CAST(s.compound AS DOUBLE) FROM bridge_post_coin b JOIN fct_post_sentiment s USING (source, post_id, date)
           WHERE b.coin_id = ? AND NOT s.is_flagged""", [coin]), columns=["date", "compound"]).groupby("date")["compound"]
    half_width = 1.959964 * posts.std() / np.sqrt(posts.count())
    assert got["sentiment_mean"].to_numpy() == pytest.approx(daily["mean"].to_numpy(), rel=1e-9)
    assert got["sentiment_high"].to_numpy() == pytest.approx((posts.mean() + half_width).to_numpy(), rel=1e-9)


def test_price_vs_sentiment_says_what_the_analysis_found_and_nothing_more(site, page):
    coin = largest_coin(site)
    text = show(page, site, "price-vs-sentiment")
    (lag, r, significant), = site.sql(
        """SELECT lag, statistic, significant FROM analysis_lead_lag
           WHERE coin_id = ? AND series = 'sentiment' AND test = 'xcorr' ORDER BY abs(statistic) DESC LIMIT 1""", [coin])
    assert significant, "the small dataset plants a sentiment lead in the largest coin"
    assert f"Mean sentiment leads returns by {lag} h: r = {r:+.2f} at lag {lag} h" in text
    hits = sorted(x for (x,) in site.sql(
        "SELECT lag FROM analysis_lead_lag WHERE coin_id = ? AND test = 'xcorr' AND significant", [coin]))
    assert sorted(traces(page, 1)["significant after correction"]["x"]) == hits
    check_page(page, site, "price-vs-sentiment")

    quiet = [c for (c,) in site.sql(
        "SELECT coin_id FROM analysis_lead_lag GROUP BY coin_id HAVING NOT bool_or(significant) ORDER BY coin_id")]
    assert quiet, "the small dataset has coins without a planted lead"
    pick(page, "Coin", coin_label(site, quiet[0]))
    eventually(page, lambda p: f"Nothing is significant for {coin_label(site, quiet[0])}" in main_text(p), True)
    assert "leads returns by" not in main_text(page)


def test_data_health_shows_the_version_runs_checks_and_quarantine_as_recorded(site, page):
    text = show(page, site, "health")
    assert metric(page, "Published version") == site.version()
    (failed,), = site.sql(
        "SELECT count(*) FILTER (WHERE NOT passed) FROM quality_results "
        "WHERE run_id = (SELECT arg_max(run_id, checked_at) FROM quality_results)")
    assert failed > 0, "the fixture's corrupted build failed a gate"
    assert number(metric(page, "Failed checks (latest checked run)")) == failed
    for model, check, example in site.sql("SELECT model, check_name, example FROM quality_results WHERE NOT passed AND run_id = "
                                          "(SELECT arg_max(run_id, checked_at) FROM quality_results)"):
        assert f"{model}.{check}" in text and example in text
    (quarantined,), = site.sql("SELECT count(*) FROM quarantine")
    assert number(metric(page, "Records quarantined")) == quarantined > 0
    runs = [json.loads(p.read_text()) for p in sorted((Path(site.settings.lake) / "ops/runs").glob("*.json"))[-20:]]
    assert number(metric(page, f"Runs not ok (of the last {len(runs)})")) == sum(r["status"] != "ok" for r in runs)
    check_page(page, site, "health")


def test_dashboard_refuses_a_port_in_use_in_one_line(cli, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = cli.invoke(app, ["dashboard", "--port", str(taken.getsockname()[1]), "--lake", str(tmp_path)])
    assert result.exit_code == 2
    assert "cannot listen on 127.0.0.1" in result.output and "Traceback" not in result.output


def lead_lag_rows(*rows: tuple) -> pd.DataFrame:
    columns = ["series", "test", "lag", "statistic", "p_value", "p_adjusted", "significant"]
    return pd.DataFrame(rows, columns=columns).assign(alpha=0.05)


def test_verdicts_say_nothing_is_significant_plainly():
    rows = lead_lag_rows(("sentiment", "xcorr", 3, 0.08, 0.01, 0.9, False), ("volume", "xcorr", -2, -0.05, 0.2, 1.0, False),
                         ("sentiment", "granger_sentiment_to_returns", 2, 2.5, 0.03, 1.0, False))
    assert verdict.sentences(rows, "Tether (USDT)", 510) == [
        "Nothing is significant for Tether (USDT): no lag of mean sentiment or post volume and no Granger test survives the "
        "Holm correction over all 510 tests of the analysis, α = 0.05. These data show no lead or lag between social "
        "activity and returns."
    ]


def test_verdicts_name_only_what_survives_the_correction():
    rows = lead_lag_rows(("sentiment", "xcorr", 3, 0.30, 1e-9, 2e-7, True), ("sentiment", "xcorr", 2, 0.12, 1e-3, 0.04, True),
                         ("volume", "xcorr", -2, -0.25, 1e-6, 1e-4, True), ("volume", "xcorr", 1, 0.01, 0.7, 1.0, False),
                         ("volume", "granger_returns_to_volume", 4, 9.1, 1e-5, 1e-3, True),
                         ("sentiment", "granger_sentiment_to_returns", 4, 1.2, 0.3, 1.0, False))
    said = verdict.sentences(rows, "Bitcoin (BTC)", 100)
    assert said[0].startswith("Mean sentiment leads returns by 3 h: r = +0.30 at lag 3 h (r² = 9.0 % on normal scores)")
    assert said[0].endswith("corrected p = 2e-07; 2 lags significant in all.")
    assert said[1].startswith("Post volume follows returns by 2 h: r = -0.25 at lag -2 h")
    assert said[2] == "Granger: the past of returns improves the prediction of post volume (VAR order 4, corrected p = 0.001)."
    assert not any("sentiment improves" in s for s in said)
    assert "not proof that posts move prices" in said[-1]
    quiet_volume = rows[~((rows["series"] == "volume") & (rows["test"] == "xcorr"))]
    quiet_volume = pd.concat([quiet_volume, lead_lag_rows(("volume", "xcorr", 5, 0.09, 0.02, 0.6, False))])
    assert verdict.sentences(quiet_volume, "Bitcoin (BTC)", 100)[1] == "No lag of post volume is significant after correction."


def test_prices_keep_four_significant_digits():
    assert [fmt.price(v) for v in (67123.456, 1.5, 0.012345, 0.00001234)] == ["$67,123.46", "$1.50", "$0.01235", "$0.00001234"]


def test_a_new_publish_appears_on_the_next_interaction_without_restart(site, page):
    before = site.version()
    assert f"published version {before}" in main_text(page)
    run(site.settings, SECOND)
    after = site.version()
    assert after != before
    (last_day,), = site.sql("SELECT max(date) FROM dim_time")
    show(page, site, "markets")  # the next interaction
    eventually(page, lambda p: f"published version {after}" in main_text(p), True)
    assert f"→ {last_day:%Y-%m-%d}. All times are UTC." in page.inner_text('[data-testid="stSidebar"]')
    assert site.server.poll() is None  # the same server process throughout
