"""Training hooks."""
