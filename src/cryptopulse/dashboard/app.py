"""The Streamlit script `cryptopulse dashboard` serves: the shared sidebar, then one of the four pages."""

from __future__ import annotations

import time
from functools import partial

import streamlit as st

from cryptopulse.config import ConfigError
from cryptopulse.dashboard.controls import sidebar
from cryptopulse.dashboard.data import published, settings
from cryptopulse.dashboard.views import Render, health, markets, price_sentiment, show, social
from cryptopulse.lake import Lake, LakeError

PAGES: tuple[tuple[Render, str, str], ...] = (
    (markets.render, "Markets", "markets"),
    (social.render, "Social", "social"),
    (price_sentiment.render, "Price vs sentiment", "price-vs-sentiment"),
    (health.render, "Data health", "health"),
)


def main() -> None:
    started = time.perf_counter()
    st.set_page_config(page_title="cryptopulse", layout="wide")
    try:
        pub = published(Lake(settings().lake))
    except (ConfigError, LakeError) as e:  # an unreadable config or manifest: one line, not a traceback
        st.error(str(e))
        return
    sel = sidebar(pub) if pub is not None else None
    pages = [st.Page(partial(show, render, pub, sel, started), title=title, url_path=path, default=i == 0)
             for i, (render, title, path) in enumerate(PAGES)]
    st.navigation(pages).run()


main()
