"""The read API: a keyed, rate-limited HTTP service over the published version (`cryptopulse serve`)."""
