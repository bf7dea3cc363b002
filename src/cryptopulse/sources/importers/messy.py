"""Parse the messy values real exports hold: dates in many spellings, unix s/ms, `1,234` numbers, bytes literals, mangled ids."""

from __future__ import annotations

import ast
import codecs
import datetime as dt
import hashlib
import math
import re

UTC = dt.UTC
# Anything outside these bounds is not a timestamp of crypto data (and catches misread numbers).
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=UTC)
# Unix epochs at or above this are milliseconds: 1e11 seconds is the year 5138, 1e11 ms is March 1973.
MS_THRESHOLD = 100_000_000_000

_EPOCH = re.compile(r"^-?\d+(\.\d+)?$")
_HOUR_AMPM = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2})-?(AM|PM)$", re.IGNORECASE)  # CryptoDataDownload: 2017-08-17 05-AM
_NUMERIC_DATE = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_NAMED_FORMATS = (
    "%a %b %d %H:%M:%S %z %Y",  # Twitter v1.1: Tue Apr 17 23:29:43 +0000 2018
    "%b %d, %Y",  # CoinMarketCap: Oct 03, 2017
    "%B %d, %Y",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y %H:%M:%S",
)
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")
_MISSING = {"", "-", "--", "n/a", "na", "nan", "null", "none", "?"}
# 1.00534E+18: a number a spreadsheet rounded (the `+` tells it from a base-36 Reddit id such as 1e47362)
_SPREADSHEET_ID = re.compile(r"^\d+(\.\d+)?[eE]\+\d+$")
_BYTES_LITERAL = re.compile(r"""^b(['"]).*\1$""", re.DOTALL)


def _in_range(ts: dt.datetime) -> dt.datetime | None:
    return ts if EARLIEST <= ts < LATEST else None


def parse_epoch(value: float) -> dt.datetime | None:
    """Unix seconds or milliseconds (decided per value, so a file may mix both) → UTC datetime."""
    if not math.isfinite(value):
        return None
    seconds = value / 1000 if abs(value) >= MS_THRESHOLD else value
    try:
        return _in_range(dt.datetime.fromtimestamp(seconds, tz=UTC))
    except (OverflowError, OSError, ValueError):
        return None


def numeric_date_order(values: list[str]) -> bool | None:
    """For a column of `a-b-yyyy` dates: True if day-first, False if month-first, None if the column cannot tell."""
    first_big = second_big = False
    for v in values:
        m = _NUMERIC_DATE.match(v.strip())
        if m:
            first_big |= int(m.group(1)) > 12
            second_big |= int(m.group(3)) > 12
    if first_big != second_big:
        return first_big
    return None


def parse_timestamp(value: object, dayfirst: bool = True) -> dt.datetime | None:
    """A timestamp in any spelling the importers meet → aware UTC datetime, or None when unusable.

    Naive times are taken as UTC. `dayfirst` decides `01-02-2018` (see `numeric_date_order`).
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return parse_epoch(float(value))
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lower() in _MISSING:
        return None
    if _EPOCH.match(text):
        return parse_epoch(float(text))
    if m := _HOUR_AMPM.match(text):
        hour = int(m.group(2)) % 12 + (12 if m.group(3).upper() == "PM" else 0)
        return _in_range(dt.datetime.fromisoformat(m.group(1)).replace(hour=hour, tzinfo=UTC))
    if m := _NUMERIC_DATE.match(text):
        return _numeric_date(m, dayfirst)
    return _iso_or_named(text)


def _numeric_date(m: re.Match[str], dayfirst: bool) -> dt.datetime | None:
    a, b = int(m.group(1)), int(m.group(3))
    day, month = (a, b) if dayfirst else (b, a)
    try:
        return _in_range(
            dt.datetime(int(m.group(4)), month, day, int(m.group(5) or 0), int(m.group(6) or 0), int(m.group(7) or 0), tzinfo=UTC)
        )
    except ValueError:
        return None


def _iso_or_named(text: str) -> dt.datetime | None:
    try:
        ts = dt.datetime.fromisoformat(text)
    except ValueError:
        ts = None
        for fmt in _NAMED_FORMATS:
            try:
                ts = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if ts is None:
        return None
    ts = ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)
    return _in_range(ts)


def parse_number(value: object) -> float | None:
    """`1,288,020,000`, ` 42.5 `, 7 → float; blanks, `-`, `NULL`, `nan` and non-numbers → None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    text = str(value).strip()
    if text.lower() in _MISSING:
        return None
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def parse_count(value: object) -> int | None:
    """A whole number (likes, retweets, a score, which may be negative) as int, or None."""
    number = parse_number(value)
    return int(number) if number is not None and number == int(number) else None


def decode_bytes_literal(text: str) -> str:
    """`b'It\\xe2\\x80\\x99s'` (a Python bytes repr saved as text) → `It’s`; any other text is returned as is."""
    stripped = text.strip()
    if not _BYTES_LITERAL.match(stripped):
        return text
    try:
        raw = ast.literal_eval(stripped)
    except (ValueError, SyntaxError):
        raw = codecs.escape_decode(stripped[2:-1].encode("utf-8", "surrogateescape"))[0]
    if not isinstance(raw, bytes):
        return text
    return raw.decode("utf-8", errors="replace")


def normalise_text(text: str) -> str:
    """Post text as staged: bytes literals decoded, CRLF/CR line ends made LF, outer whitespace removed."""
    return decode_bytes_literal(text).replace("\r\n", "\n").replace("\r", "\n").strip()


def is_mangled_id(value: str) -> bool:
    """True for ids a spreadsheet turned into rounded scientific notation (`1.00534E+18`): not a usable key."""
    return bool(_SPREADSHEET_ID.match(value.strip()))


def clean_id(value: object) -> str | None:
    """An id as text: `930714744255893506`, `1f7n947`; a float-formatted integer `1319579286.0` loses its `.0`."""
    if value is None:
        return None
    text = str(value).strip()
    if text.lower() in _MISSING:
        return None
    if re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    return text


def content_id(*parts: object) -> str:
    """A stable id derived from a record's content (text, time, author): the same row always gets the same id."""
    digest = hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()
    return f"cid-{digest[:20]}"
