"""Command-line scripts run as `python -m backend.scripts.<name>`."""
