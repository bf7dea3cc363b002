"""The shared real samples (`../shared/data/real` beside the project): found in one place, a missing one fails loudly."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
REAL = PROJECT.parent / "shared" / "data" / "real"


def real(relative: str) -> Path:
    """The real sample at `relative` under REAL; fails the test with one line when it is missing (never skips or shrinks)."""
    path = REAL / relative
    if not path.exists():
        pytest.fail(f"real sample missing: {path} (the tests need ../shared/data/real beside the project root {PROJECT})",
                    pytrace=False)
    return path
