"""Data health: the published version, recent runs, quality checks with failing examples, quarantine, freshness per source."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from cryptopulse.dashboard import charts, fmt
from cryptopulse.dashboard.controls import Selection
from cryptopulse.dashboard.data import Published, freshness_hours
from cryptopulse.dashboard.views import require
from cryptopulse.lake.runlog import recent_runs

RUNS = 20


def render(pub: Published, sel: Selection | None) -> None:
    st.title("Data health")
    _version(pub)
    st.subheader("Recent runs")
    _runs(pub)
    st.subheader("Quality checks")
    if require(pub, "quality_results"):
        _checks(pub)
    st.subheader("Quarantine")
    if require(pub, "quarantine"):
        _quarantine(pub)
    st.subheader("Freshness per source")
    _freshness(pub)


def _version(pub: Published) -> None:
    snap = pub.snapshot
    cols = st.columns([1, 3])
    cols[0].metric("Published version", snap.version)
    interval = " → ".join(snap.interval) if snap.interval else "–"
    cols[1].markdown(f"published **{fmt.utc(snap.published_at)}** by run `{snap.run_id}`  \nlast interval published: **{interval}**")
    tables = pd.DataFrame([(t.name, t.rows, len(t.files)) for t in snap.tables.values()], columns=["table", "rows", "files"])
    with st.expander(f"{len(tables)} published tables"):
        st.dataframe(tables, hide_index=True)


def _runs(pub: Published) -> None:
    runs = recent_runs(pub.lake, RUNS)
    if not runs:
        if pub.has("pipeline_runs"):
            st.dataframe(pub.query("published_runs", RUNS), hide_index=True)
        else:
            st.info("no runs recorded yet — run `cryptopulse run`")
        return
    table = pd.DataFrame([{
        "run": r.get("run_id"), "status": r.get("status"), "interval": f"{r.get('interval_start')} → {r.get('interval_end')}",
        "started (UTC)": r.get("started_at"), "seconds": r.get("seconds"), "published version": r.get("published_version"),
        "error": r.get("error"),
    } for r in runs])
    bad = table[table["status"] != "ok"]
    st.metric(f"Runs not ok (of the last {len(table)})", len(bad))
    st.dataframe(table, hide_index=True)
    for r in runs:
        failing = [c for c in r.get("checks") or [] if not c.get("passed")]
        if failing:
            with st.expander(f"run {r['run_id']} ({r.get('status')}): {len(failing)} failed checks"):
                st.dataframe(pd.DataFrame(failing), hide_index=True)


def _checks(pub: Published) -> None:
    checks = pub.query("quality_checks", None)
    if checks.empty:
        st.info("no quality checks recorded yet — run `cryptopulse run`")
        return
    failed = checks[~checks["passed"]]
    run_id = checks["run_id"].iloc[0]
    cols = st.columns(2)
    cols[0].metric("Failed checks (latest checked run)", len(failed))
    cols[1].metric("Checks passed", int(checks["passed"].sum()))
    st.caption(f"run {run_id}, checked {fmt.utc(checks['checked_at'].iloc[0])}")
    for f in failed.itertuples():
        example = str(f.example).replace("`", "'")
        st.markdown(f"✗ **{f.model}.{f.check_name}**: {f.failing_rows:,} failing rows, e.g. `{example}`")
    history = pub.query("failed_checks", 100)
    with st.expander(f"failed checks of every recorded run ({len(history)})"):
        st.dataframe(history, hide_index=True)
    with st.expander(f"all {len(checks)} checks of run {run_id}"):
        st.dataframe(checks[["model", "check_name", "passed", "failing_rows", "example"]], hide_index=True)


def _quarantine(pub: Published) -> None:
    counts = pub.query("quarantine_counts")
    st.metric("Records quarantined", f"{int(counts['records'].sum()):,}")
    if counts.empty:
        return
    st.plotly_chart(charts.quarantine(counts), key="health_quarantine")
    st.dataframe(counts, hide_index=True)


def _freshness(pub: Published) -> None:
    fresh = pub.query("freshness")
    if fresh.empty:
        st.info("nothing published per source yet — run `cryptopulse run`")
        return
    now = pd.Timestamp.now(tz="UTC").tz_localize(None)
    limit = freshness_hours()
    fresh["age now (h)"] = ((now - fresh["newest"]).dt.total_seconds() / 3600).round(1)
    fresh["behind the freshest source (h)"] = ((fresh["newest"].max() - fresh["newest"]).dt.total_seconds() / 3600).round(1)
    fresh["stale"] = fresh["age now (h)"] > limit
    st.caption(f"Newest published record per dataset and source; stale when older than {limit} h now "
               f"({fmt.utc(now)}; CRYPTOPULSE_FRESHNESS_HOURS).")
    st.dataframe(fresh, hide_index=True, column_config={"newest": st.column_config.DatetimeColumn("newest (UTC)")})
    if pub.has("staging_stats"):
        st.markdown("**Staging per dataset**")
        st.dataframe(pub.query("staging_summary"), hide_index=True)
