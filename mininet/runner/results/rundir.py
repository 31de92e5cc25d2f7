"""Run directories: everything a finished ``run`` or ``compare`` leaves behind, and reading it back.

Layout of ``RUN_DIR`` (every file written whole or not at all, by ``mininet.runner.results.files``)::

    run.json                          what ran: command line, environment, seeds, backends, timings, files
    specs/<spec>.toml                 each resolved spec (inferred widths filled in); re-validates as is
    metrics.csv, metrics.jsonl        per spec, backend, repetition and epoch: the four metrics
    summary.txt                       the printed tables, byte for byte
    summary.csv, summary.json         the summary table's numbers (and the paired statistics)
    checkpoints/<spec>/<backend>-<k>.pt   final parameters of repetition k (see checkpoint.py)
    figures/                          written by ``mininet plot`` / ``--plot``

Floats in CSV files are written with ``repr`` (shortest text that reads back to the same float), so
``mininet report`` rebuilds the tables exactly; JSON files hold ``null`` where a value is not finite.
``<spec>`` in a file name is the spec name with a sweep point's brackets and commas made ``-``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import platform
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import torch

from ..spec.experiment import Spec
from ..spec.render import render_spec
from ..train.metrics import METRICS
from ..train.result import RunResult, summarize
from ..train.seeds import derive
from .checkpoint import Checkpoint, resolved, spec_from_text
from .files import atomic_write
from .report import COLUMNS, paired_stats
from .stats import CONFIDENCE, DEFAULT_MARGINS, Margin, margins_from_json, margins_to_json

FORMAT = "mininet-run"
VERSION = 1
RUN_FILE = "run.json"
DEFAULT_ROOT = Path("runs")
SEED_STREAMS = ("data", "init", "order", "dropout")


class RunDirError(ValueError):
    """A run directory that cannot be written or read."""


# --------------------------------------------------------------------------- writing files
def write_file(path: str | Path, data: str | bytes) -> None:
    """Write text (UTF-8) or bytes to ``path``, whole or not at all (files.py)."""
    with atomic_write(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


def _finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


def json_text(doc: Any) -> str:
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"


def read_json(path: Path, fmt: str, version: int, missing: str) -> dict[str, Any]:
    """A JSON file marked with ``format``/``version``, or RunDirError (``missing``: why it is not there)."""
    if not path.is_file():
        raise RunDirError(f"{path.parent}: {missing} (no {path.name})")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise RunDirError(f"{path}: unreadable ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != fmt or doc.get("version") != version:
        raise RunDirError(f"{path}: not a version-{version} {fmt} file")
    return doc


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


# --------------------------------------------------------------------------- what to record
def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(root: Path | None = None) -> dict[str, Any]:
    """The commit of the checkout mininet runs from (None when it is not one) and whether it is modified."""
    root = (Path(__file__).resolve().parent.parent if root is None else root)
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None or Path(top).resolve() != root.resolve():  # e.g. installed into a venv inside a repo
        return {"commit": None, "dirty": None}
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return {"commit": _git(root, "rev-parse", "HEAD"), "dirty": None if status is None else bool(status)}


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Versions, machine and command line: what a reader needs to reproduce or trust a run."""
    import mininet

    argv = list(sys.argv if argv is None else argv)
    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    return {
        "command": shlex.join([Path(argv[0]).name] + argv[1:]) if argv else "",
        "argv": argv,
        "cwd": os.getcwd(),
        "mininet": mininet.__version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "os": platform.platform(),
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "gpu": gpus,
        "cuda": torch.version.cuda,
        "git": git_state(),
    }


def seeds(spec: Spec) -> dict[str, Any]:
    """The spec's seed and every derived random stream of every repetition."""
    return {"seed": spec.seed, "repetitions": [
        {"repetition": k, **{s: derive(spec.seed, k, s) for s in SEED_STREAMS}} for k in range(spec.repetitions)]}


# --------------------------------------------------------------------------- the directory
def file_stem(spec_name: str) -> str:
    """A spec name as a file name: a sweep point's brackets and commas (shell glob characters) become '-'."""
    return re.sub(r"[\[\],]+", "-", spec_name).strip("-")


def default_run_dir(spec_names: Sequence[str], root: Path = DEFAULT_ROOT, now: datetime | None = None) -> Path:
    """``runs/<spec-name>-<timestamp>`` (a numbered suffix if that exists already)."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    first = file_stem(spec_names[0])
    name = first if len(spec_names) == 1 else f"{first}-and-{len(spec_names) - 1}-more"
    path = root / f"{name}-{stamp}"
    n = 2
    while path.exists():
        path, n = root / f"{name}-{stamp}-{n}", n + 1
    return path


def link_latest(directory: Path, root: Path = DEFAULT_ROOT) -> Path | None:
    """Point ``runs/latest`` at ``directory`` (a run just saved under the default root); replaced
    atomically, so a reader never sees it missing. None where the file system has no symbolic links."""
    latest = root / "latest"
    tmp = root / f".latest-{os.getpid()}"
    try:
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(directory.name, target_is_directory=True)  # relative: the runs folder can move
        os.replace(tmp, latest)
    except OSError:
        return None
    return latest


def check_run_dir(path: Path, spec_names: Sequence[str]) -> None:
    """Before training: the directory must be new or empty, and spec names unique (they name files)."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise RunDirError(f"{path} exists and is not an empty directory; choose another --out")
    stems = [file_stem(n) for n in spec_names]
    dup = sorted({n for n in spec_names if stems.count(file_stem(n)) > 1})
    if dup:
        raise RunDirError(f"specs share the name {', '.join(dup)}; names label the files of a run directory, "
                          "give each spec its own name")


@dataclass
class SpecEntry:
    """One trained spec: as loaded, the folder its relative paths start from, and its file (if any)."""

    spec: Spec
    base_dir: Path
    source: Path | None = None


def checkpoint_path(spec_name: str, backend: str, repetition: int) -> str:
    return f"checkpoints/{file_stem(spec_name)}/{backend}-{repetition}.pt"


def _metric_rows(results: Sequence[RunResult]) -> list[list[Any]]:
    rows = []
    for r in results:
        values = r.metrics.tolist()
        for k, epochs in enumerate(values):
            for e, row in enumerate(epochs):
                rows.append([r.spec_name, r.backend, k, e + 1, *row])
    return rows


def _summary_doc(results: Sequence[RunResult], reference: str, margins: dict[str, Margin]) -> dict[str, Any]:
    summary = []
    for r in results:
        stats = summarize(r)
        summary.append({"spec": r.spec_name, "backend": r.backend, "executor": r.executor,
                        "repetitions": r.repetitions, "diverged": sum(r.diverged), "seconds": r.seconds,
                        "seconds_per_run": r.seconds / r.repetitions,
                        **{f"{m}_{s}": _finite_or_none(v) for m in COLUMNS for s, v in zip(("mean", "std"), stats[m])}})
    paired = []
    for p in paired_stats(results, reference, margins):
        s = p["stats"]
        item = {k: p[k] for k in ("spec", "backend", "reference", "metric")}
        if s is not None:
            item.update(pairs=s.n, mean=s.mean, std=_finite_or_none(s.std), ci_low=_finite_or_none(s.low),
                        ci_high=_finite_or_none(s.high), max_abs=s.max_abs, margin=s.margin,
                        margin_spec=str(s.margin_spec), verdict=s.verdict)
        paired.append(item)
    return {"summary": summary, "paired": paired, "confidence": CONFIDENCE, "margins": margins_to_json(margins)}


def save_run(directory: Path, kind: str, entries: Sequence[SpecEntry], results: Sequence[RunResult],
             text: str, fmt: str, *, reference: str = "torch", margins: dict[str, Margin] | None = None,
             backends: Sequence[str] = (), executor: str = "auto", argv: Sequence[str] | None = None,
             extra_files: Sequence[str] = ()) -> Path:
    """Write the run directory of a finished ``run`` or ``compare`` (``text``: what it printed;
    ``extra_files``: files already there that belong to the run, such as a sweep's points)."""
    margins = DEFAULT_MARGINS if margins is None else margins
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files: list[str] = []

    def write(rel: str, data: str | bytes) -> None:
        write_file(directory / rel, data)
        files.append(rel)

    specs_meta = []
    for entry in entries:
        spec = resolved(entry.spec, entry.base_dir)
        if spec.data.type == "csv":  # the copy lives elsewhere: make its data paths absolute
            data = {k: str((entry.base_dir / v).resolve()) for k in ("path", "test_path")
                    if (v := getattr(spec.data, k)) is not None}
            spec = spec.model_copy(update={"data": spec.data.model_copy(update=data)})
        toml_text = render_spec(spec)
        rel = f"specs/{file_stem(spec.name)}.toml"
        write(rel, toml_text)
        specs_meta.append({"name": spec.name, "file": rel, "source": None if entry.source is None else str(Path(entry.source).resolve()),
                           "base_dir": str(entry.base_dir), "seeds": seeds(spec)})
        for r in results:
            if r.spec_name != spec.name:
                continue
            for k, state in enumerate(r.states):
                final = {m: r.metrics[k, -1, i].item() for i, m in enumerate(METRICS)}
                ckpt = Checkpoint(state, toml_text, str(entry.base_dir), spec.name, k, r.backend, final)
                write(checkpoint_path(spec.name, r.backend, k), ckpt.to_bytes())

    rows = _metric_rows(results)
    header = ["spec", "backend", "repetition", "epoch", *METRICS]
    write("metrics.csv", _csv_text(header, [row[:4] + [repr(v) for v in row[4:]] for row in rows]))
    write("metrics.jsonl", "".join(json.dumps(dict(zip(header, row[:4] + [_finite_or_none(v) for v in row[4:]])),
                                              allow_nan=False) + "\n" for row in rows))
    write("summary.txt", text + "\n")
    doc = _summary_doc(results, reference, margins)
    summary_header = list(doc["summary"][0]) if doc["summary"] else []
    write("summary.csv", _csv_text(summary_header, [["" if v is None else v for v in s.values()] for s in doc["summary"]]))
    write("summary.json", json_text(doc))

    meta = {
        "format": FORMAT, "version": VERSION, "kind": kind,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "environment": environment(argv),
        "table_format": fmt, "reference": reference, "margins": margins_to_json(margins),
        "backends": list(backends or dict.fromkeys(r.backend for r in results)), "executor": executor,
        "specs": specs_meta,
        "results": [{"spec": r.spec_name, "backend": r.backend, "executor": r.executor, "seconds": r.seconds,
                     "repetitions": r.repetitions, "epochs": r.metrics.shape[1], "diverged": r.diverged,
                     "checkpoints": [checkpoint_path(r.spec_name, r.backend, k) for k in range(len(r.states))]}
                    for r in results],
    }
    meta["files"] = files + [f for f in extra_files if f not in files] + [RUN_FILE]
    write_file(directory / RUN_FILE, json_text(meta))  # last: its presence means the run is complete
    return directory


# --------------------------------------------------------------------------- reading back
@dataclass
class SavedRun:
    directory: Path
    meta: dict[str, Any]
    specs: dict[str, Spec]
    results: list[RunResult]  # without states: parameters stay in the checkpoint files

    @property
    def margins(self) -> dict[str, Margin]:
        return margins_from_json(self.meta["margins"])

    def base_dir(self, spec_name: str) -> Path:
        """The folder the spec's relative paths started from when it was trained."""
        return Path(next(s["base_dir"] for s in self.meta["specs"] if s["name"] == spec_name))


def _read_metrics(path: Path) -> dict[tuple[str, str], dict[tuple[int, int], list[float]]]:
    table: dict[tuple[str, str], dict[tuple[int, int], list[float]]] = {}
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        for row in reader:
            key = (row["spec"], row["backend"])
            table.setdefault(key, {})[(int(row["repetition"]), int(row["epoch"]))] = [float(row[m]) for m in METRICS]
    return table


def load_run(directory: str | Path) -> SavedRun:
    """Read a run directory back: its metadata, resolved specs and every result's metrics."""
    directory = Path(directory)
    meta = read_json(directory / RUN_FILE, FORMAT, VERSION, "not a finished run directory")
    specs = {s["name"]: spec_from_text((directory / s["file"]).read_text(encoding="utf-8"), str(directory / s["file"]))
             for s in meta["specs"]}
    table = _read_metrics(directory / "metrics.csv")
    results = []
    for r in meta["results"]:
        cells = table[(r["spec"], r["backend"])]
        metrics = torch.tensor([[cells[(k, e)] for e in range(1, r["epochs"] + 1)] for k in range(r["repetitions"])],
                               dtype=torch.float64)
        results.append(RunResult(r["spec"], r["backend"], r["executor"], metrics, [], r["seconds"]))
    return SavedRun(directory, meta, specs, results)
