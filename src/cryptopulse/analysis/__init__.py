"""Sentiment enrichment and market-reaction analysis: crypto lexicon, scoring, bot flags, lead–lag, charts."""
