"""Test-wide settings."""

import os

# Prefect's ephemeral server logs "Stopping temporary server" at interpreter exit, after pytest has closed
# its captured streams ("--- Logging error ---"); tests need Prefect's warnings and errors only.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
