"""Markets: a coin's price, market cap and volume over time, the monthly min/max table, and the top movers."""

from __future__ import annotations

import streamlit as st

from cryptopulse.dashboard import charts, fmt
from cryptopulse.dashboard.controls import Selection
from cryptopulse.dashboard.data import Published

DAILY_AFTER_DAYS = 31  # "auto" draws hourly points up to a month, daily candles beyond
MOVERS = 10


def render(pub: Published, sel: Selection) -> None:
    st.title(f"Markets — {sel.label}")
    st.caption(sel.describe())
    _history(pub, sel)
    st.subheader("Monthly min / max")
    coins = pub.query("coins")
    picked = st.multiselect("Coins", coins["coin_id"].tolist(), default=[sel.coin_id], key="markets_monthly_coins")
    monthly = pub.query("monthly_stats", tuple(picked), sel.start, sel.end)
    st.dataframe(monthly.drop(columns=["coin_id"]), hide_index=True, column_config={"month": st.column_config.DateColumn(format="YYYY-MM")})
    st.subheader("Top movers")
    st.caption(f"Tracked coins by the size of their price change from the first to the last hour of "
               f"{sel.start:%Y-%m-%d} → {sel.last_day:%Y-%m-%d}.")
    movers = pub.query("top_movers", sel.start, sel.end, MOVERS)
    st.dataframe(movers, hide_index=True, column_config={"change_pct": st.column_config.NumberColumn("change %", format="%+.2f")})


def _history(pub: Published, sel: Selection) -> None:
    resolution = st.segmented_control("Resolution", ["auto", "hourly", "daily"], default="auto", key="markets_resolution")
    daily = resolution == "daily" or (resolution != "hourly" and sel.days > DAILY_AFTER_DAYS)
    hourly = pub.query("market_hourly", sel.coin_id, sel.start, sel.end)
    if hourly.empty:
        st.info(f"no prices for {sel.label} in {sel.start:%Y-%m-%d} → {sel.last_day:%Y-%m-%d}: pick other dates")
        return
    first, last = hourly.iloc[0], hourly.iloc[-1]
    cols = st.columns(4)
    cols[0].metric("Last price (USD)", fmt.price(last["price_usd"]), fmt.pct(100 * (last["price_usd"] / first["price_usd"] - 1)),
                   help="the last hour of the range; the change is from its first hour")
    cols[1].metric("Market cap", fmt.usd(last["market_cap_usd"]))
    cols[2].metric("24 h volume", fmt.usd(last["volume_usd"]))
    cols[3].metric("Hours with a price", f"{len(hourly):,}")
    drawn = "daily candles" if daily else "hourly points"
    st.caption(f"last hour: {fmt.utc(last['ts_hour'])} · {drawn} · drag to zoom, double-click to reset")
    frame = pub.query("market_daily", sel.coin_id, sel.start, sel.end) if daily else hourly
    st.plotly_chart(charts.market(frame, daily), key="markets_chart")
