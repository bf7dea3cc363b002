"""What one import did: rows read = loaded + duplicates + quarantined (by reason), the files landed, and notes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cryptopulse.sources.importers.reading import Row


@dataclass
class ImportReport:
    """The per-file report `cryptopulse import` prints (`--json`: `as_dict()`)."""

    file: str
    format: str
    detected: bool
    read: int = 0
    loaded: int = 0
    duplicates: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    derived_ids: int = 0
    notes: list[str] = field(default_factory=list)
    landed: list[str] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)  # field → column
    layout: str = ""  # a JSON preset's fixed layout, instead of a mapping
    dry_run: bool = False
    preview: list[dict[str, Any]] = field(default_factory=list)  # the first records as parsed

    PREVIEW_SIZE = 5

    @property
    def quarantined(self) -> int:
        return sum(self.reasons.values())

    def reject(self, row: Row, reason: str, detail: str | None = None) -> None:
        """Count `row` as quarantined and keep it (row number, reason, the raw record) for the quarantine file."""
        self.reasons[reason] += 1
        entry: dict[str, Any] = {"row": row.number, "reason": reason, "record": row.raw if row.raw is not None else row.values}
        if detail:
            entry["detail"] = detail
        self.rejected.append(entry)

    def show(self, record: dict[str, Any]) -> None:
        """Keep `record` for the preview while it is one of the first PREVIEW_SIZE loaded."""
        if len(self.preview) < self.PREVIEW_SIZE:
            self.preview.append(record)

    def check(self) -> None:
        """Nothing is dropped silently: every row read is loaded, a duplicate, or quarantined."""
        if self.read != self.loaded + self.duplicates + self.quarantined:
            raise AssertionError(f"{self.file}: read {self.read} != loaded {self.loaded} + duplicates {self.duplicates} "
                                 f"+ quarantined {self.quarantined}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "format": self.format, "detected": self.detected, "read": self.read, "loaded": self.loaded,
            "duplicates": self.duplicates, "quarantined": self.quarantined, "reasons": dict(sorted(self.reasons.items())),
            "derived_ids": self.derived_ids, "mapping": dict(self.mapping), "layout": self.layout,
            "notes": list(self.notes), "landed": list(self.landed), "dry_run": self.dry_run,
            **({"preview": list(self.preview)} if self.dry_run else {}),
        }  # fmt: skip

    def summary(self) -> str:
        """One line for people: what was chosen and the counts."""
        how = "detected" if self.detected else "given"
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.reasons.items()))
        return (f"{self.file}: format {self.format} ({how}): {self.read:,} read = {self.loaded:,} loaded + "
                f"{self.duplicates:,} duplicates + {self.quarantined:,} quarantined" + (f" ({reasons})" if reasons else "")
                + (" — dry run, nothing landed" if self.dry_run else ""))

    def mapping_line(self) -> str:
        """`created_at ← date, text ← tweet, …` (or the JSON preset's layout): how the file's columns were read."""
        if self.mapping:
            return "mapping: " + ", ".join(f"{name} ← {column}" for name, column in self.mapping.items())
        return f"layout: {self.layout}"
