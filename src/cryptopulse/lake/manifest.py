"""The published zone's commit point, `published/_manifest.json`: read by every reader, written by `lake.publish`."""

from __future__ import annotations

import json

from cryptopulse.lake.store import Lake, LakeError

MANIFEST = "published/_manifest.json"


def read_manifest(lake: Lake) -> dict | None:
    """The current published version's manifest, or None when nothing is published."""
    if not lake.exists(MANIFEST):
        return None
    try:
        manifest = json.loads(lake.read_bytes(MANIFEST))
    except (ValueError, UnicodeDecodeError) as e:
        raise LakeError(f"{lake.uri(MANIFEST)}: not a valid manifest ({e})") from None
    problem = _structure_problem(manifest)
    if problem:
        raise LakeError(f"{lake.uri(MANIFEST)}: not a valid manifest ({problem})")
    return manifest


def _structure_problem(manifest: object) -> str | None:
    """What makes `manifest` unusable by readers, or None."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("tables"), dict):
        return "no 'tables' object"
    for name, table in manifest["tables"].items():
        if not isinstance(table, dict) or not isinstance(table.get("file_list", []), list):
            return f"table {name!r} has no file list"
        if not all(isinstance(f, str) and f.startswith(f"published/{name}/") for f in table.get("file_list", [])):
            return f"table {name!r} lists a file outside published/{name}/"
    return None


def write_manifest(lake: Lake, manifest: dict) -> None:
    """The commit point: one atomic write (rename locally, one PUT on object stores)."""
    lake.write_bytes(MANIFEST, json.dumps(manifest, indent=1).encode())
