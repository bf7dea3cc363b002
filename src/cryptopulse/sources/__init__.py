"""Data sources that fill the raw zone: live providers and the offline synthetic generator."""
