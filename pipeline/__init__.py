"""tematik's library: one module per stage, no Prefect imports.

ingest -> language -> embeddings -> topics -> themes -> weighting -> quotes -> export
"""

__version__ = "0.1.0"
