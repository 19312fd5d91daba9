"""Faults on purpose: the bad-link emulator's own tests, bad servers in the county's place, damaged
answers, full disks, and the fault campaign (``python -m tests.faults.campaign``) that kills
clients and servers mid-sync and checks that nothing was lost, doubled or damaged."""
