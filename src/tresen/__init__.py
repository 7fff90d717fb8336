"""Tresen: self-hosted proactive customer-service chat and co-browsing."""

__version__ = "0.1.0"
