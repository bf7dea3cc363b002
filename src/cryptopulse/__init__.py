"""cryptopulse: crypto market statistics and social posts → an analysis-ready warehouse."""

__version__ = "0.1.0"
