"""Readers of the published version: one consistent snapshot (`snapshot`) and the named queries over it (`queries`)."""

from cryptopulse.read.snapshot import NoPublishedData, Snapshot, open_snapshot

__all__ = ["NoPublishedData", "Snapshot", "open_snapshot"]
