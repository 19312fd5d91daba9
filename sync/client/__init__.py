"""Replication with the county platform: transport, push/pull, attachments, USB bundles."""
