"""The four pages, and what every page does alike: the empty-lake line, missing tables, one line instead of a traceback."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import streamlit as st

from cryptopulse.dashboard.controls import Selection
from cryptopulse.dashboard.data import PUBLISHED_BY, Published

NO_DATA = "no data yet — run `cryptopulse run`"
FOOTER = "end of page"  # the last element of every page: a browser waiting for it knows the page is complete
FAILED = "could not draw this page"
log = logging.getLogger("cryptopulse.dashboard")

Render = Callable[[Published, Selection | None], None]


def show(render: Render, pub: Published | None, sel: Selection | None, started: float, needs_coin: bool = True) -> None:
    """Draw one page, or the empty-lake line; an unexpected error is one line here and a traceback in the server log.

    The footer names the version shown and the server time of this run (from `started`, a perf_counter reading).
    """
    if pub is None or (sel is None and needs_coin):
        st.info(NO_DATA)
    else:
        try:
            render(pub, sel)
        except Exception as e:  # a page never shows a traceback; the server log keeps it
            log.exception("page failed")
            st.error(f"{FAILED}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    version = f"published version {pub.version}" if pub is not None else "nothing published"
    st.caption(f"{version} · all times UTC · server {1000 * (time.perf_counter() - started):.1f} ms · {FOOTER}")


def require(pub: Published, *tables: str) -> bool:
    """True when every table is published; otherwise say which is missing and what publishes it."""
    missing = [t for t in tables if not pub.has(t)]
    for table in missing:
        st.info(f"`{table}` is not published yet — run `{PUBLISHED_BY.get(table, 'cryptopulse run')}`")
    return not missing
