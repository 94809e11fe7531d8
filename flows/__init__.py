"""Prefect flows and the ``tematik`` command: thin wiring of ``pipeline``."""
