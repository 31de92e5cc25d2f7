"""The shapes of one sample that are not a plain vector (an int) or image (a (channels, height, width)
tuple): sequences, of token indices or of vectors."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tokens:
    """A sequence of ``length`` token indices, each below ``vocab``: what an embedding layer takes."""

    length: int
    vocab: int


@dataclass(frozen=True)
class Steps:
    """A sequence of ``length`` time steps of ``features`` values each: (batch, length, features)."""

    length: int
    features: int
