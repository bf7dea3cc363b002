"""The object store that holds the raw, staged and published zones (a local folder or any fsspec URL)."""

from cryptopulse.lake.store import Lake, LakeError

__all__ = ["Lake", "LakeError"]
