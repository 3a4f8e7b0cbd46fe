"""The user's git project: load, validate, compile."""
