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
        return json.loads(lake.read_bytes(MANIFEST))
    except (ValueError, UnicodeDecodeError) as e:
        raise LakeError(f"{lake.uri(MANIFEST)}: not a valid manifest ({e})") from None


def write_manifest(lake: Lake, manifest: dict) -> None:
    """The commit point: one atomic write (rename locally, one PUT on object stores)."""
    lake.write_bytes(MANIFEST, json.dumps(manifest, indent=1).encode())
