"""Shared helpers for runner tests: shipped specs and shortened copies of them."""

from __future__ import annotations

from pathlib import Path

from mininet.runner.spec.load import load_spec

ROOT = Path(__file__).resolve().parents[2]
SPEC_FILES = sorted(p for p in (ROOT / "specs").rglob("*.toml"))


def shortened(spec, epochs: int | None = None, repetitions: int | None = None, **fields):
    """A copy of ``spec`` with fewer epochs / repetitions (and any top-level field replaced)."""
    train = spec.train.model_copy(update={"epochs": epochs}) if epochs else spec.train
    update = {"train": train, **fields}
    if repetitions:
        update["repetitions"] = repetitions
    return spec.model_copy(update=update)


def load(path: Path):
    return load_spec(path)
