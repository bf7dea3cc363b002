"""Reruns change nothing, and adjacent intervals add up to one run over their union.

The reference "one run over the whole interval" is the session's `small_built`; tests that rerun work on a private
copy of it (`small_built_copy`), so each test costs only the runs it is about.
"""

from __future__ import annotations

import shutil

from conftest import published_hashes, settings_for, table_hashes
from cryptopulse.config import Settings
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.pipeline import run, run_in_batches
from cryptopulse.staging.common import staged_extent
from cryptopulse.staging.run import raw_extent


def whole_interval(built: Settings) -> Interval:
    return staged_extent(Lake(built.lake))


def test_running_the_same_interval_twice_gives_identical_tables(small_built, small_built_copy):
    tables, published = table_hashes(small_built.warehouse), published_hashes(small_built.lake)
    again = small_built_copy
    second = run(again, whole_interval(small_built))
    assert second.interval == whole_interval(small_built)
    assert table_hashes(again.warehouse) == tables
    assert published_hashes(again.lake) == published
    assert tables["fct_post"][0] > 10_000  # the comparison is over real data


def test_adjacent_intervals_equal_one_run_over_their_union(small_built, small_raw, tmp_path):
    whole = whole_interval(small_built)
    middle = whole.start + (whole.end - whole.start) / 2
    split = settings_for(tmp_path)
    shutil.copytree(small_raw / "raw", tmp_path / "lake" / "raw")
    run(split, Interval(whole.start, middle))
    run(split, Interval(middle, whole.end))
    assert staged_extent(Lake(split.lake)) == whole
    assert table_hashes(split.warehouse) == table_hashes(small_built.warehouse)


def test_rerunning_one_day_inside_a_built_range_changes_nothing(small_built, small_built_copy):
    whole = whole_interval(small_built)
    built = small_built_copy
    day = whole.start + (whole.end - whole.start) / 3
    run(built, Interval.covering(day, day))
    assert table_hashes(built.warehouse) == table_hashes(small_built.warehouse)


def test_a_run_in_batches_finds_the_raw_extent_and_equals_one_whole_run(small_built, small_raw, tmp_path):
    whole = whole_interval(small_built)
    batched = settings_for(tmp_path)
    shutil.copytree(small_raw / "raw", tmp_path / "lake" / "raw")
    assert raw_extent(Lake(batched.lake)) == whole  # from the boundary months' records, not the partitions alone
    reports = run_in_batches(batched, None, batch_days=8)
    assert [r.interval for r in reports] == whole.batches(8) and len(reports) == 3
    assert reports[0].interval.start == whole.start and reports[-1].interval.end == whole.end
    assert table_hashes(batched.warehouse) == table_hashes(small_built.warehouse)
    assert published_hashes(batched.lake) == published_hashes(small_built.lake)
