"""Passage roles (stub, replaced below)."""
CONTENT_ROLE = "indhold"
