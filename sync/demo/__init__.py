"""Deterministic synthetic demo data standing on the real divisions of 衢州市."""
