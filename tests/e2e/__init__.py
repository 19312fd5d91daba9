"""End-to-end tests: real county server processes on loopback, real stores, real HTTP."""
