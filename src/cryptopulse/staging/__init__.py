"""Raw zone → staged zone: parse, type, deduplicate and quarantine source records, one day-partition at a time."""

from cryptopulse.staging.common import StageResult
from cryptopulse.staging.run import stage

__all__ = ["StageResult", "stage"]
