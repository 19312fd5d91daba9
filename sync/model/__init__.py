"""Records, the closed loop as a pure state machine, taxonomy, deadlines and the working-day
calendar. Shared by the desktop client and the county server; no I/O beyond reading bundled data.
"""
