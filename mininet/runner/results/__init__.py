"""What a finished run leaves: the printed tables (report.py) and paired statistics (stats.py), the
run directory (rundir.py), checkpoints that load into either backend (checkpoint.py), figures
(plot.py), every file written whole or not at all (files.py)."""
