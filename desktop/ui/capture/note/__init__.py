"""Notes: the review card of a parsed note (task, due time, amount, linked records)."""
