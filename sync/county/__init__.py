"""The reference county platform: HTTP API, its storage, admin commands."""
