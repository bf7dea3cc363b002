"""Quality gates: declarative checks from the model headers plus reconciliation; a failure stops publishing."""

from cryptopulse.quality.checks import CheckResult, run_checks

__all__ = ["CheckResult", "run_checks"]
