"""Price vs sentiment: returns and sentiment on one time axis, the lead–lag profile and Granger tests, in plain words."""

from __future__ import annotations

import streamlit as st

from cryptopulse.dashboard import charts, verdict
from cryptopulse.dashboard.controls import Selection
from cryptopulse.dashboard.data import Published
from cryptopulse.dashboard.views import require

P_FORMAT = st.column_config.NumberColumn(format="%.3g")


def render(pub: Published, sel: Selection) -> None:
    st.title(f"Price vs sentiment — {sel.label}")
    st.caption(sel.describe())
    if require(pub, "mart_coin_hourly"):
        hours = pub.query("returns_and_sentiment", sel.coin_id, sel.start, sel.end)
        if hours["sentiment_mean"].isna().all():
            st.info("no post has a sentiment score in this range — run `cryptopulse enrich`, or pick other dates")
        st.plotly_chart(charts.returns_and_sentiment(hours), key="pvs_chart")
    st.subheader("Does sentiment or post volume lead returns?")
    if require(pub, "analysis_lead_lag"):
        _lead_lag(pub, sel)


def _lead_lag(pub: Published, sel: Selection) -> None:
    overview = pub.query("lead_lag_overview")
    rows = pub.query("lead_lag", sel.coin_id)
    if rows.empty:
        st.info(f"{sel.label} is not in the latest analysis (fewer than 100 hours with a return, or `cryptopulse analyze "
                f"--coin` named another coin) — run `cryptopulse analyze`")
        return
    if rows["shuffle_seed"].notna().any():
        st.warning("This analysis ran as a placebo (`--shuffle`): social measures were permuted in time, so any lead is chance.")
    family = int(overview["tests"].sum())
    for sentence in verdict.sentences(rows, sel.label, family):
        st.markdown(sentence)
    st.caption(f"From the latest `cryptopulse analyze` over every published hour (not only the dates above): cross-correlations "
               f"at lags ±{int(rows['max_lag'].iloc[0])} h and Granger F-tests on normal scores of the hourly series.")
    st.plotly_chart(charts.lag_profile(rows[rows["test"] == "xcorr"]), key="pvs_lags")
    st.markdown("**Granger tests** (does the past of one series improve the prediction of the other?)")
    st.dataframe(verdict.granger_table(rows), hide_index=True, column_config={"p": P_FORMAT, "corrected p": P_FORMAT})
    st.markdown("**Every analysed coin**")
    if overview["significant_tests"].sum() == 0:
        st.info(f"Nothing is significant for any of the {len(overview)} analysed coins after correction.")
    st.dataframe(overview.drop(columns=["shuffle_seed"]), hide_index=True, column_config={"min_p_adjusted": P_FORMAT})
