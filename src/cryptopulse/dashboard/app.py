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

# (draw, title, url path, whether it needs a coin: Data health does not)
PAGES: tuple[tuple[Render, str, str, bool], ...] = (
    (markets.render, "Markets", "markets", True),
    (social.render, "Social", "social", True),
    (price_sentiment.render, "Price vs sentiment", "price-vs-sentiment", True),
    (health.render, "Data health", "health", False),
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
    pages = [st.Page(partial(show, render, pub, sel, started, needs_coin), title=title, url_path=path, default=i == 0)
             for i, (render, title, path, needs_coin) in enumerate(PAGES)]
    st.navigation(pages).run()


main()
