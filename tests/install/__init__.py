"""Packaging and deployment: the .deb, the Windows installer, site config, doctor, self-test."""
