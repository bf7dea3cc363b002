"""Social: posts, mean sentiment with its band, dominance and bot/spam share against the coin's own baseline; the posts behind a spike."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from cryptopulse.dashboard import charts, fmt
from cryptopulse.dashboard.controls import Selection
from cryptopulse.dashboard.data import Published
from cryptopulse.dashboard.views import require
from cryptopulse.read.queries import BASELINE

STEP = {"day": dt.timedelta(days=1), "hour": dt.timedelta(hours=1)}
SPIKES = 10
POSTS_SHOWN = 500
SPIKE_KEY = "social_spike"


def render(pub: Published, sel: Selection) -> None:
    st.title(f"Social — {sel.label}")
    st.caption(sel.describe())
    if not require(pub, "mart_coin_daily", "mart_coin_hourly", "bridge_post_coin", "fct_post_sentiment"):
        return
    grain = st.segmented_control("Per", ["day", "hour"], default="day", key="social_grain") or "day"
    series = pub.query("social_series", sel.coin_id, sel.start, sel.end, grain)
    if series.empty or series["posts"].sum() + series["flagged_posts"].sum() == 0:
        st.info(f"no posts name {sel.label} in {sel.start:%Y-%m-%d} → {sel.last_day:%Y-%m-%d}: pick other dates or another coin")
        return
    _metrics(series)
    if series["sentiment_mean"].isna().all():
        st.info("no post has a sentiment score yet — run `cryptopulse enrich`")
    event = st.plotly_chart(charts.social(series), key="social_chart", on_select="rerun", selection_mode="points")
    st.subheader("Against the coin's own baseline")
    st.caption(f"z-score = (value − mean) / sd of the coin's trailing {BASELINE[grain]} {grain}s before each {grain} "
               "(blank until half of that window exists). |z| > 2 is unusual for this coin.")
    st.plotly_chart(charts.zscores(series), key="social_z")
    _spike_posts(pub, sel, series, grain, _clicked(event))


def _metrics(series: pd.DataFrame) -> None:
    posts, flagged, scored = (int(series[c].sum()) for c in ("posts", "flagged_posts", "scored_posts"))
    mean = (series["sentiment_mean"] * series["scored_posts"]).sum() / scored if scored else float("nan")
    cols = st.columns(4)
    cols[0].metric("Posts (bot/spam left out)", f"{posts:,}")
    cols[1].metric("Flagged as bot/spam", f"{flagged:,}")
    cols[2].metric("Mean sentiment", "–" if mean != mean else f"{mean:+.3f}")
    cols[3].metric("Mean social dominance", f"{100 * series['social_dominance'].mean():.1f} %")


def _clicked(event: object) -> str | None:
    """The period of the point last clicked on the social chart, if any."""
    points = getattr(getattr(event, "selection", None), "points", None) or []
    return str(pd.Timestamp(points[0]["x"])) if points else None


def _spike_label(period: pd.Timestamp, posts: int, z: float) -> str:
    return f"{fmt.utc(period)} — {posts:,} posts" + ("" if z != z else f", z = {z:+.1f}")


def _spike_posts(pub: Published, sel: Selection, series: pd.DataFrame, grain: str, clicked: str | None) -> None:
    st.subheader("Posts behind a spike")
    ranked = series.sort_values(["posts_z", "posts"], ascending=False, na_position="last").head(SPIKES)
    labels = {str(r.period): _spike_label(r.period, r.posts, r.posts_z) for r in ranked.itertuples()}
    if clicked is not None and clicked != st.session_state.get("social_clicked"):
        st.session_state["social_clicked"] = clicked
        st.session_state[SPIKE_KEY] = clicked
    chosen = st.session_state.get(SPIKE_KEY)
    if chosen not in labels and chosen in set(series["period"].astype(str)):
        labels = {chosen: f"{fmt.utc(pd.Timestamp(chosen))} (clicked)", **labels}
    if chosen not in labels:
        st.session_state[SPIKE_KEY] = next(iter(labels))
    article = "an" if grain == "hour" else "a"
    period = st.selectbox(f"Pick {article} {grain} (largest post-count z-scores first; or click a bar above)", list(labels),
                          format_func=labels.get, key=SPIKE_KEY)
    start = pd.Timestamp(period).to_pydatetime()
    end = start + STEP[grain]
    counts = pub.query("count_coin_posts", sel.coin_id, start, end).iloc[0]
    cols = st.columns(2)
    cols[0].metric(f"Posts naming {sel.label} in this {grain}", f"{int(counts['posts']):,}")
    cols[1].metric("of them flagged as bot/spam", f"{int(counts['flagged_posts']):,}")
    posts = pub.query("coin_posts", sel.coin_id, start, end, POSTS_SHOWN)
    if len(posts) < counts["posts"]:
        st.caption(f"showing the first {len(posts):,} posts of {fmt.utc(start)} → {fmt.utc(end)}")
    st.dataframe(
        posts, hide_index=True,
        column_order=["created_at", "author", "text", "compound", "is_flagged", "is_copy_storm", "is_high_rate", "is_spam_pattern",
                      "like_count", "retweet_count", "source", "channel"],
        column_config={"created_at": st.column_config.DatetimeColumn("time (UTC)", format="YYYY-MM-DD HH:mm:ss"),
                       "text": st.column_config.TextColumn(width="large"), "compound": st.column_config.NumberColumn(format="%+.3f")},
    )
