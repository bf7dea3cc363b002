"""The offline synthetic reference dataset: coins, hourly markets and X posts with a planted signal."""

from cryptopulse.sources.synthetic.generator import GenerateReport, generate

__all__ = ["GenerateReport", "generate"]
