"""Reruns change nothing, and adjacent intervals add up to one run over their union."""

from __future__ import annotations

import shutil

from conftest import published_hashes, settings_for, table_hashes
from cryptopulse.interval import Interval
from cryptopulse.lake import Lake
from cryptopulse.pipeline import run, run_in_batches
from cryptopulse.staging.common import staged_extent
from cryptopulse.staging.run import raw_extent


def test_running_the_same_interval_twice_gives_identical_tables(small):
    first = run(small)
    tables, published = table_hashes(small.warehouse), published_hashes(small.lake)
    second = run(small, first.interval)
    assert second.interval == first.interval
    assert table_hashes(small.warehouse) == tables
    assert published_hashes(small.lake) == published
    assert tables["fct_post"][0] > 10_000  # the comparison is over real data


def test_adjacent_intervals_equal_one_run_over_their_union(small, tmp_path):
    whole = run(small).interval
    middle = whole.start + (whole.end - whole.start) / 2
    union_tables = table_hashes(small.warehouse)

    split = settings_for(tmp_path / "split")
    shutil.copytree(tmp_path / "lake" / "raw", tmp_path / "split" / "lake" / "raw")
    run(split, Interval(whole.start, middle))
    run(split, Interval(middle, whole.end))
    assert staged_extent(Lake(split.lake)) == whole
    assert table_hashes(split.warehouse) == union_tables


def test_rerunning_one_day_inside_a_built_range_changes_nothing(small):
    whole = run(small).interval
    before = table_hashes(small.warehouse)
    day = whole.start + (whole.end - whole.start) / 3
    run(small, Interval.covering(day, day))
    assert table_hashes(small.warehouse) == before


def test_a_run_in_batches_finds_the_raw_extent_and_equals_one_whole_run(small, tmp_path):
    whole = run(small)
    union_tables, union_published = table_hashes(small.warehouse), published_hashes(small.lake)

    batched = settings_for(tmp_path / "batched")
    shutil.copytree(tmp_path / "lake" / "raw", tmp_path / "batched" / "lake" / "raw")
    assert raw_extent(Lake(batched.lake)) == whole.interval  # from the boundary months' records, not the partitions alone
    reports = run_in_batches(batched, None, batch_days=8)
    assert [r.interval for r in reports] == whole.interval.batches(8) and len(reports) == 3
    assert reports[0].interval.start == whole.interval.start and reports[-1].interval.end == whole.interval.end
    assert table_hashes(batched.warehouse) == union_tables
    assert published_hashes(batched.lake) == union_published
