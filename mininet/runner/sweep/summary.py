"""The table of a sweep's points, from its state (``sweep.json``): what ``run``/``compare`` print at
the end of a sweep and ``mininet report`` prints again, byte for byte."""

from __future__ import annotations

from typing import Any

from tabulate import tabulate


def points_text(state: dict[str, Any], fmt: str = "github") -> str:
    """One row per point: its folder, status, attempts, seconds and the last error of a failed one."""
    rows = []
    for i, p in enumerate(state["points"]):
        status = "not finished" if p["status"] in ("pending", "running") else p["status"]
        seconds = "" if p["seconds"] is None or p["status"] != "done" else f"{p['seconds']:.1f}"
        rows.append([i + 1, p["dir"], status, p["attempts"], seconds, p["error"] or ""])
    counts = {s: sum(p["status"] == s for p in state["points"]) for s in ("done", "failed")}
    head = (f"sweep: {counts['done']} of {len(rows)} points done" +
            (f", {counts['failed']} failed" if counts["failed"] else "") + f" ({state['launcher']} launcher)")
    table = tabulate(rows, headers=("#", "point folder", "status", "attempts", "seconds", "error"), tablefmt=fmt,
                     disable_numparse=True)
    return head + "\n" + table
