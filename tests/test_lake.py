"""Lake writes are atomic: a failed write leaves the previous file (or none) and no temporary file."""

from __future__ import annotations

import pytest

from cryptopulse.lake import Lake, LakeError


def test_write_then_read(tmp_path):
    lake = Lake(tmp_path)
    lake.write_bytes("a/b/c.json", b"{}")
    assert lake.read_bytes("a/b/c.json") == b"{}"
    assert lake.glob("a/*/*.json") == ["a/b/c.json"]


def test_failed_write_keeps_the_previous_version_and_leaves_no_temp_file(tmp_path):
    lake = Lake(tmp_path)
    lake.write_bytes("t.txt", b"old")
    with pytest.raises(RuntimeError), lake.writing("t.txt") as tmp:
        with open(tmp, "wb") as f:
            f.write(b"half of the new")
        raise RuntimeError("crash")
    assert lake.read_bytes("t.txt") == b"old"
    assert [str(p.relative_to(tmp_path)) for p in sorted(tmp_path.rglob("*")) if p.is_file()] == ["t.txt"]


def test_hidden_and_pending_paths_are_not_listed(tmp_path):
    lake = Lake(tmp_path)
    for path in ("x/ok.parquet", "x/sub/ok.parquet", "x/_pending/y.parquet", "x/.tmp.parquet", "x/sub/_y.parquet"):
        lake.write_bytes(path, b"1")
    assert lake.glob("x/*.parquet") == ["x/ok.parquet"]  # the pattern matches x/.tmp.parquet too
    assert lake.glob("x/*/*.parquet") == ["x/sub/ok.parquet"]  # ... and x/_pending/y.parquet, x/sub/_y.parquet


def test_missing_file_and_missing_lake_are_clear_errors(tmp_path):
    lake = Lake(tmp_path / "nope")
    with pytest.raises(LakeError, match="lake not found"):
        lake.require()
    with pytest.raises(LakeError, match="no such file"):
        Lake(tmp_path).read_bytes("missing.json")
