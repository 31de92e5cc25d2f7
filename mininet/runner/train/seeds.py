"""Deterministic, independent random streams derived from (seed, repetition, purpose)."""

from __future__ import annotations

import hashlib

import torch


def derive(seed: int, repetition: int, stream: str) -> int:
    """A 63-bit seed for one purpose ("data", "init", "order", "dropout") of one repetition.

    Separate streams keep, e.g., the batch order independent of how many parameters were drawn,
    so changing the model in a sweep leaves the data and batch order of every repetition unchanged.
    """
    digest = hashlib.sha256(f"mininet:{seed + repetition}:{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def generator(seed: int, repetition: int, stream: str) -> torch.Generator:
    return torch.Generator().manual_seed(derive(seed, repetition, stream))
