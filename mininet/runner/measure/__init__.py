"""The two backends side by side: number by number (parity.py, ``mininet check``) and second by
second (bench.py, ``mininet bench``)."""
