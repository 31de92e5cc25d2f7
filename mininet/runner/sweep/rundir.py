"""A sweep's run directory: one run directory per point, a state file, and what resuming reads back.

Layout, on top of the ordinary run directory (:mod:`mininet.runner.results.rundir`) that the command
writes at the end over every finished point::

    sweep.json                     the state of every point: status, attempts, seconds, last error
    points/<override_dirname>/     a whole run directory of that point alone, written as it finishes
    points/<override_dirname>/error.txt   the traceback of a failed point's last attempt

``<override_dirname>`` is Hydra's: the point's swept ``key=value`` pairs sorted by key and joined by
commas (``loss.type=mse,optimizer.momentum=0.2``); with several spec files, the spec's name comes first.
``sweep.json`` is rewritten (whole, atomically) at every change, so it always tells which points a
``--resume`` still has to train: those not ``done``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from ..results.checkpoint import CheckpointError, read_checkpoint
from ..results.rundir import (RunDirError, SpecEntry, checkpoint_path, file_stem, json_text, load_run, read_json,
                              save_run, write_file)
from ..results.stats import Margin
from ..spec.load import Point
from ..spec.overrides import format_key, format_value
from ..train.result import RunResult
from .run import PointState

SWEEP_FILE = "sweep.json"
POINTS = "points"
FORMAT, VERSION = "mininet-sweep", 1
ERROR_FILE = "error.txt"


def override_dirname(point: Point, with_name: bool = False) -> str:
    """Hydra's ``override_dirname`` of a point: ``key=value`` pairs sorted by key, joined by commas."""
    pairs = sorted((format_key(k), format_value(v)) for k, v in point.values.items())
    text = ",".join(f"{k}={v}" for k, v in pairs)
    text = "".join(c if c.isalnum() or c in "._=,+-" else "_" for c in text)  # a file name, on any system
    base = file_stem(point.spec.name.split("[", 1)[0])
    if with_name or not text:
        return f"{base},{text}" if text else base
    return text


def point_dirnames(points: Sequence[Point]) -> list[str]:
    """Each point's folder under ``points/``; unique (a numbered suffix where sanitising made two alike)."""
    several = len({p.file for p in points}) > 1 or len({p.spec.name.split("[", 1)[0] for p in points}) > 1
    names: list[str] = []
    for p in points:
        name, n = override_dirname(p, several), 2
        while name in names:
            name, n = f"{override_dirname(p, several)}-{n}", n + 1
        names.append(name)
    return names


def read_state(directory: Path) -> dict[str, Any]:
    """The state file of a sweep's run directory, or RunDirError."""
    return read_json(Path(directory) / SWEEP_FILE, FORMAT, VERSION, "not a sweep's run directory")


class SweepDir:
    """Writes a sweep's run directory as its points change (a listener of :func:`run_sweep`)."""

    def __init__(self, points: Sequence[Point], kind: str, backends: Sequence[str], executor: str, launcher: str,
                 fmt: str, margins: dict[str, Margin], text_of: Callable[[list[RunResult]], str]) -> None:
        self.directory = Path(".")  # set by start()
        self.points = list(points)
        self.dirnames = point_dirnames(points)
        self.kind, self.backends, self.executor, self.launcher = kind, list(backends), executor, launcher
        self.fmt, self.margins, self.text_of = fmt, margins, text_of
        self.states: list[PointState] = [PointState() for _ in points]

    # ------------------------------------------------------------------ the state file
    def state_doc(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "version": VERSION, "kind": self.kind, "backends": self.backends,
            "executor": self.executor, "launcher": self.launcher,
            "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "points": [{"label": p.label, "dir": f"{POINTS}/{d}", "status": s.status, "attempts": s.attempts,
                        "seconds": s.seconds, "error": s.error}
                       for p, d, s in zip(self.points, self.dirnames, self.states)],
        }

    def files(self) -> list[str]:
        """The files of the sweep layout, relative to the directory (for the top-level run.json)."""
        found = [SWEEP_FILE] if (self.directory / SWEEP_FILE).is_file() else []
        root = self.directory / POINTS
        return found + sorted(str(p.relative_to(self.directory)) for p in root.rglob("*") if p.is_file())

    def write_state(self) -> None:
        write_file(self.directory / SWEEP_FILE, json_text(self.state_doc()))

    # ------------------------------------------------------------------ listener
    def start(self, directory: Path, states: list[PointState]) -> None:
        """Begin writing into ``directory``; ``states`` is the list the sweep updates."""
        self.directory, self.states = Path(directory), states
        self.directory.mkdir(parents=True, exist_ok=True)
        self.write_state()

    def __call__(self, index: int, state: PointState, event: str) -> None:
        folder = self.directory / POINTS / self.dirnames[index]
        if event == "done":
            point = self.points[index]
            save_run(folder, self.kind, [SpecEntry(point.spec, point.base_dir, point.file)], state.results,
                     self.text_of(state.results), self.fmt, margins=self.margins, backends=self.backends,
                     executor=self.executor)
            (folder / ERROR_FILE).unlink(missing_ok=True)  # of an earlier, failed attempt
        elif event == "failed":
            folder.mkdir(parents=True, exist_ok=True)
            write_file(folder / ERROR_FILE, f"{self.points[index].label}: failed after {state.attempts} attempt"
                                            f"{'s' if state.attempts != 1 else ''}\n{state.detail or state.error}\n")
        self.write_state()

    # ------------------------------------------------------------------ resuming
    def resumed_states(self, directory: Path) -> list[PointState]:
        """The states recorded in ``directory``, with the results of its done points read back.

        The sweep must be the same (same points in the same order, same command, backends and
        executor), else RunDirError; a done point whose files are unreadable is trained again.
        """
        self.directory = Path(directory)
        doc = read_state(self.directory)
        labels = [p["label"] for p in doc["points"]]
        if labels != [p.label for p in self.points]:
            raise RunDirError(f"{self.directory} holds a sweep of other points ({len(labels)}: "
                              f"{', '.join(labels[:3])}{', ...' if len(labels) > 3 else ''}); resume it with "
                              "the same specs, --set and --sweep")
        for key, ours in (("kind", self.kind), ("backends", self.backends), ("executor", self.executor)):
            if doc[key] != ours:
                raise RunDirError(f"{self.directory} was a sweep with {key} {doc[key]!r}, not {ours!r}")
        states = []
        for recorded, dirname in zip(doc["points"], self.dirnames):
            state = PointState(recorded["status"], recorded["attempts"], recorded["error"], "", recorded["seconds"])
            if state.status == "done":
                try:
                    state.results = self._results(self.directory / POINTS / dirname)
                except (RunDirError, CheckpointError, OSError, KeyError):
                    state = PointState()
            elif state.status == "running":  # the command was killed while it ran
                state = PointState()
            states.append(state)
        return states

    @staticmethod
    def _results(folder: Path) -> list[RunResult]:
        """A finished point's results as training returned them: metrics (exact, from repr) and states."""
        run = load_run(folder)
        for result in run.results:
            result.states = [read_checkpoint(folder / checkpoint_path(result.spec_name, result.backend, k)).state_dict
                             for k in range(result.repetitions)]
        return run.results
