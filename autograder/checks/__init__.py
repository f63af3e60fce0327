"""Public checks and scenarios, one module per assignment (hidden checks
live in solutions/<id>/hidden_checks.py and register into the same suite)."""
