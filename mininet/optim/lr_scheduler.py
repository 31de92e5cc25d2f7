"""Learning-rate schedulers with torch.optim.lr_scheduler's semantics and arithmetic.

The protocol (initial step, ``last_epoch``, chainable ``get_lr`` vs closed form, ``state_dict``) is the
base class's, :class:`LRScheduler` (mininet/optim/_lr_base.py). This file holds the schedules that are a
formula of the epoch; the cyclic ones are in _lr_cycles.py, the ones that combine or watch a metric in
_lr_compose.py; all are exported here, as torch exports them from ``torch.optim.lr_scheduler``.
"""

from __future__ import annotations

import math
import types
from bisect import bisect_right
from collections import Counter
from typing import Any, Callable, Iterable

from ._lr_base import LRScheduler, group_values
from .optimizer import Optimizer

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR",
           "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "SequentialLR", "ChainedScheduler",
           "ReduceLROnPlateau", "CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts"]


class _LambdaSchedule(LRScheduler):
    """One function of the epoch per group; state_dict keeps the state of callable objects (not of plain
    functions or lambdas, which cannot be saved), as torch does."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else fn.__dict__.copy()
                               for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        lambdas = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, saved in zip(self.lr_lambdas, lambdas):
            if saved is not None:
                fn.__dict__.update(saved)


class LambdaLR(_LambdaSchedule):
    r"""The initial lr times a function of the epoch.

        lr_e = base_lr * lr_lambda(e)

    Args:
        optimizer: the optimizer.
        lr_lambda: a function of the epoch, or a list of them, one per parameter group.
        last_epoch: index of the last epoch (default -1).
    """

    def get_lr(self) -> list[Any]:
        return [base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)]


class MultiplicativeLR(_LambdaSchedule):
    r"""Multiply the current lr by a function of the epoch, every epoch after the first.

        lr_e = lr_{e-1} * lr_lambda(e)       (e > 0; lr_0 = the group's lr)

    Args:
        optimizer: the optimizer.
        lr_lambda: a function of the epoch, or a list of them, one per parameter group.
        last_epoch: index of the last epoch (default -1).
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        fns = lr_lambda if isinstance(lr_lambda, (list, tuple)) else [lr_lambda]
        for fn in fns:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, lr_lambda, last_epoch)

    def get_lr(self) -> list[Any]:
        if self._is_initial:
            return group_values(self.optimizer, "lr")
        return [g["lr"] * fn(self.last_epoch)
                for fn, g in zip(self.lr_lambdas, self.optimizer.param_groups, strict=True)]


class StepLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

        lr_e = lr_{e-1} * gamma   if e > 0 and e % step_size == 0   else   lr_{e-1}
        (closed form, used by ``step(epoch)``: base_lr * gamma ** (e // step_size))

    Args:
        optimizer: the optimizer.
        step_size: period of the decay, in epochs.
        gamma: multiplicative factor (default 0.1).
        last_epoch: index of the last epoch (default -1).
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        # torch's StepLR does not look at _is_initial: a resumed schedule (last_epoch >= 0) may decay
        # in its initial step.
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    r"""Multiply the lr by ``gamma`` at each milestone epoch (twice at a milestone listed twice).

        lr_e = lr_{e-1} * gamma ** (number of times e is in milestones)
        (closed form: base_lr * gamma ** (number of milestones <= e))

    Args:
        optimizer: the optimizer.
        milestones: epoch indices (need not be sorted).
        gamma: multiplicative factor (default 0.1).
        last_epoch: index of the last epoch (default -1).
    """

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[Any]:
        if self.last_epoch not in self.milestones:
            return group_values(self.optimizer, "lr")
        return [g["lr"] * self.gamma ** self.milestones[self.last_epoch] for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[Any]:
        milestones = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch) for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    r"""Scale the lr by ``factor`` until epoch ``total_iters``, then restore it.

        lr_0 = lr * factor;  lr_e = lr_{e-1} * (1.0 / factor) at e == total_iters  (torch's operand order)
        (closed form: base_lr * (factor if e < total_iters else 1))

    Args:
        optimizer: the optimizer.
        factor: the scale, in [0, 1] (default 1/3).
        total_iters: number of epochs scaled (default 5).
        last_epoch: index of the last epoch (default -1).
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[Any]:
        if self.last_epoch == 0:
            return [g["lr"] * self.factor for g in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return group_values(self.optimizer, "lr")
        return [g["lr"] * (1.0 / self.factor) for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[Any]:
        return [base_lr * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    r"""Scale the lr by a factor going linearly from ``start_factor`` to ``end_factor`` over ``total_iters``.

        closed form: lr_e = base_lr * (s + (f - s) * min(e, total_iters) / total_iters)   (s, f: the factors)
        step(): lr_0 = lr * s;  lr_e = lr_{e-1} * (1 + (f - s) / (total_iters * s + (e - 1) * (f - s)))
                for 0 < e <= total_iters, unchanged afterwards (torch's chainable form)

    Args:
        optimizer: the optimizer.
        start_factor: factor at epoch 0, in (0, 1] (default 1/3).
        end_factor: factor from ``total_iters`` on, in [0, 1] (default 1).
        total_iters: length of the ramp (default 5).
        last_epoch: index of the last epoch (default -1).
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[Any]:
        if self.last_epoch == 0:
            return [g["lr"] * self.start_factor for g in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return group_values(self.optimizer, "lr")
        delta = self.end_factor - self.start_factor
        return [g["lr"] * (1.0 + delta / (self.total_iters * self.start_factor + (self.last_epoch - 1) * delta))
                for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[Any]:
        return [base_lr * (self.start_factor + (self.end_factor - self.start_factor)
                           * min(self.total_iters, self.last_epoch) / self.total_iters) for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    r"""Multiply the learning rate by ``gamma`` every epoch.

        lr_e = lr_{e-1} * gamma                    (closed form: base_lr * gamma ** e)

    Args:
        optimizer: the optimizer.
        gamma: multiplicative factor.
        last_epoch: index of the last epoch (default -1).
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    r"""Decay the lr polynomially to 0 over ``total_iters`` epochs.

        closed form: lr_e = base_lr * (1 - min(e, total_iters) / total_iters) ** power
        step(): lr_e = lr_{e-1} * ((1 - e / total_iters) / (1 - (e - 1) / total_iters)) ** power
                for 0 < e <= total_iters, unchanged afterwards (torch's chainable form)

    Args:
        optimizer: the optimizer.
        total_iters: number of decaying epochs (default 5).
        power: the polynomial's power (default 1).
        last_epoch: index of the last epoch (default -1).
    """

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[Any]:
        if self._is_initial or self.last_epoch > self.total_iters:
            return group_values(self.optimizer, "lr")
        decay = ((1.0 - self.last_epoch / self.total_iters)
                 / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return [g["lr"] * decay for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[Any]:
        return [base_lr * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
                for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the initial lr down to ``eta_min`` over ``T_max`` epochs (no restarts).

    Closed form (used by ``step(epoch)``):

        lr_e = eta_min + (base_lr - eta_min) * (1 + cos(pi * e / T_max)) / 2

    ``step()`` uses torch's recursive form instead, from the group's current lr:

        lr_e = (1 + cos(pi * e / T_max)) / (1 + cos(pi * (e - 1) / T_max)) * (lr_{e-1} - eta_min) + eta_min
        lr_e = lr_{e-1} + (base_lr - eta_min) * (1 - cos(pi / T_max)) / 2
                                                 if (e - 1 - T_max) % (2 * T_max) == 0
    (the second case passes the minimum, where the ratio above would be 0/0), so the lr keeps
    following a cosine past ``T_max``, and a change made to ``group["lr"]`` from outside persists.
    A resumed schedule (``last_epoch >= 0``) starts from the closed form, as torch's does.

    Args:
        optimizer: the optimizer.
        T_max: number of epochs of a half cosine period.
        eta_min: minimum learning rate (default 0).
        last_epoch: index of the last epoch (default -1).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return group_values(self.optimizer, "lr")
        if self._step_count == 1 and self.last_epoch > 0:  # resumed (last_epoch >= 0): torch's closed form,
            return [self.eta_min + (base_lr - self.eta_min)  # with its own operand order (e * pi / T_max)
                    * (1 + math.cos(self.last_epoch * math.pi / self.T_max)) / 2 for base_lr in self.base_lrs]
        groups = self.optimizer.param_groups
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return [group["lr"] + (base_lr - self.eta_min) * (1 - math.cos(math.pi / self.T_max)) / 2
                    for base_lr, group in zip(self.base_lrs, groups, strict=True)]
        return [(1 + math.cos(math.pi * self.last_epoch / self.T_max))
                / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max))
                * (group["lr"] - self.eta_min) + self.eta_min
                for group in groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


from ._lr_compose import ChainedScheduler, ReduceLROnPlateau, SequentialLR  # noqa: E402  (they use the above)
from ._lr_cycles import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR  # noqa: E402
