"""Run the lead–lag regressions on one BLAS thread: OpenBLAS's threads cost more than they bring on them."""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

# (get, set) thread-count functions as numpy's and scipy's bundled OpenBLAS and a system OpenBLAS name them
SYMBOLS = (
    ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
    ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
    ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
    ("openblas_get_num_threads", "openblas_set_num_threads"),
)


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Every OpenBLAS loaded in this process on one thread inside the block, as before after it (elsewhere: no-op).

    The VAR regressions (~12,000 × 73) gain nothing from a second thread, and on a busy machine OpenBLAS's
    threads waiting for each other made one QR 13× slower in wall time and 14× in CPU (measured at load 16).
    """
    controls = openblas_thread_controls()
    before = [get() for get, _ in controls]
    for _, set_threads in controls:
        set_threads(1)
    try:
        yield
    finally:
        for (_, set_threads), threads in zip(controls, before):
            set_threads(threads)


def openblas_thread_controls() -> list[tuple[Callable[[], int], Callable[[int], None]]]:
    """The (get, set) thread-count functions of each OpenBLAS library mapped into this process (Linux)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return []
    paths = sorted({line.split()[-1] for line in maps.splitlines() if "openblas" in line.rsplit("/", 1)[-1]})
    controls = []
    for path in paths:
        library = ctypes.CDLL(path)
        names = next(((g, s) for g, s in SYMBOLS if hasattr(library, g) and hasattr(library, s)), None)
        if names is not None:
            get_threads, set_threads = getattr(library, names[0]), getattr(library, names[1])
            get_threads.restype, set_threads.argtypes = ctypes.c_int, [ctypes.c_int]
            controls.append((get_threads, set_threads))
    return controls
