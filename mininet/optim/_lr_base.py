"""LRScheduler, the base of mininet's learning-rate schedulers, with torch.optim.lr_scheduler's protocol."""

from __future__ import annotations

import warnings
from typing import Any

import torch

from ._args import to_scalar
from .optimizer import Optimizer

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` is deprecated (as in torch); call `scheduler.step()` without it. "
    "With an epoch the closed form is used instead of the chainable form, where available.")


def format_param(name: str, optimizer: Optimizer, param: Any) -> list[Any]:
    """One value per parameter group: a list / tuple must have one per group, a single value is repeated."""
    if isinstance(param, (list, tuple)):
        if len(param) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups. {name} has "
                             f"{len(param)} values, param_groups has {len(optimizer.param_groups)}.")
    else:
        param = [param] * len(optimizer.param_groups)
    return [p.clone() if isinstance(p, torch.Tensor) else p for p in param]


def group_values(optimizer: Optimizer, key: str) -> list[Any]:
    """Every group's ``key``; tensors are cloned, so a later in-place update does not change the list."""
    return [g[key].clone() if isinstance(g[key], torch.Tensor) else g[key] for g in optimizer.param_groups]


def set_group_value(group: dict[str, Any], key: str, value: Any) -> None:
    """A tensor hyper-parameter (tensor lr) is updated in place, as torch does; a number is replaced."""
    if isinstance(group[key], torch.Tensor):
        group[key].fill_(to_scalar(value))
    else:
        group[key] = value


class LRScheduler:
    """Base class of the schedulers: subclasses implement ``get_lr`` (and, where there is one,
    ``_get_closed_form_lr``).

    As in torch, a scheduler takes over its optimizer's ``group["lr"]``: the constructor records each
    group's ``initial_lr`` (if not already there) and performs an initial step (``last_epoch`` -1 -> 0,
    with ``_is_initial`` set, during which the chainable schedulers keep the current lr), and every
    ``step()``, called after ``optimizer.step()``, advances ``last_epoch`` by one and writes the new rates
    into the groups. Rates are computed in Python floats (or 0-d tensors for a tensor lr) with torch's own
    formulas, mostly chainable (from the group's current lr), so the sequences agree with torch's bit for bit.

    Args:
        optimizer: the :class:`~mininet.optim.Optimizer` whose learning rates are scheduled.
        last_epoch: index of the last epoch; -1 (default) starts a schedule. A value >= 0 resumes one and
            needs ``initial_lr`` in every group.

    Attributes:
        base_lrs: each group's ``initial_lr``.
        last_epoch: number of ``step()`` calls since the start (0 right after construction).
    """

    _is_initial: bool = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                lr = group["lr"]
                group.setdefault("initial_lr", lr.clone() if isinstance(lr, torch.Tensor) else lr)
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] "
                                   "when resuming a scheduler with last_epoch >= 0")
        self.base_lrs: list[Any] = group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[Any]:
        """The learning rates for the epoch ``last_epoch`` (called by ``step``)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[Any]:
        """The learning rates the last ``step()`` (or the constructor) set, one per group."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and set the groups' learning rates.

        Args:
            epoch: deprecated in torch; if given, jump to this epoch using the closed-form formula.
        """
        self._step_count += 1
        if epoch is not None:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed_form = getattr(self, "_get_closed_form_lr", None)
            values = closed_form() if closed_form is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            set_group_value(group, "lr", lr)
        self._last_lr = group_values(self.optimizer, "lr")

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer (torch's layout)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.__dict__.update(state_dict)


def set_momentum(group: dict[str, Any], use_beta1: bool, momentum: Any) -> None:
    """The cycling schedulers' momentum: SGD's ``momentum``, or Adam's beta1 (the first of ``betas``)."""
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def momentum_kind(optimizer: Optimizer) -> bool:
    """True if the optimizer's momentum is beta1 (``betas``), False if it has ``momentum``."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
    return "betas" in optimizer.defaults
