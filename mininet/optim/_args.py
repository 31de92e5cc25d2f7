"""Argument checks and scalar helpers shared by the optimizers, with torch.optim's errors and messages."""

from __future__ import annotations

from typing import Any

import torch

_HYPER_NAMES = {"lr": "learning rate", "eps": "epsilon value"}


def check_nonnegative(**values: Any) -> None:
    """Raise torch's ValueError for the first negative hyper-parameter (a 1-element tensor counts as its value)."""
    for key, value in values.items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {_HYPER_NAMES.get(key, key + ' value')}: {value}")


def check_lr(lr: float | torch.Tensor) -> None:
    """torch accepts a 1-element tensor as a learning rate (so that it can be changed in place)."""
    if isinstance(lr, torch.Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    check_nonnegative(lr=lr)


def check_impl_flags(*, foreach: bool | None = None, fused: bool | None = None,
                     capturable: bool = False, differentiable: bool = False) -> None:
    """torch's implementation switches.

    ``foreach`` and ``fused`` only choose how torch computes the same update; mininet always computes
    it one way (the single-tensor arithmetic, which is what torch runs on CPU), so they are accepted and
    stored. ``capturable`` (CUDA graphs) and ``differentiable`` (autograd through the step) have no
    meaning without autograd / graph capture, so True is refused rather than silently ignored.
    """
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if capturable:
        raise NotImplementedError("capturable=True is not supported by mininet (no CUDA graph capture); "
                                  "leave it False")
    if differentiable:
        raise NotImplementedError("differentiable=True is not supported by mininet (no autograd through the "
                                  "optimizer step); leave it False")


def to_scalar(x: Any) -> Any:
    """torch's ``_to_scalar``: a 1-element tensor hyper-parameter becomes 0-d, anything else is kept."""
    return x.squeeze() if isinstance(x, torch.Tensor) and x.dim() != 0 else x


def item(x: Any) -> Any:
    """A Python number for a ``torch._foreach_*`` scalar list; torch converts a 0-d tensor passed as
    ``value=`` / ``alpha=`` the same way, so the bits are those of torch's per-tensor call."""
    return x.item() if isinstance(x, torch.Tensor) else x


def new_step(fused: bool | None = False) -> torch.Tensor:
    """A fresh step counter, stored as torch stores it: a 0-d float tensor (float64 under a float64
    default dtype; float32 for ``fused``), so that state_dicts move between mininet and torch.optim unchanged.

    torch's fused kernels keep their counter on the parameters' device; mininet reads it back as a Python
    number, so it stays on the CPU (no device sync; the meta device works). torch's load_state_dict moves a
    fused counter to the parameters' device itself, so the state still loads into torch unchanged.
    """
    if fused:
        return torch.zeros((), dtype=torch.float32)
    dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    return torch.tensor(0.0, dtype=dtype)


def advance(steps: list[torch.Tensor]) -> list[float]:
    """Add 1 to every step counter (``step_t += 1``) and return their values as Python floats.

    torch reads the counter back with ``.item()`` and does the bias-correction arithmetic in Python
    floats; so do we, which keeps those scalars bit-identical.
    """
    torch._foreach_add_(steps, 1)
    return [s.item() for s in steps]
