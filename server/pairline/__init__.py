"""pairline: a local-first coding copilot delivered as a Language Server."""

__version__ = "0.1.0"
