"""Optimizer base: param_groups, per-parameter state, zero_grad, as in torch.optim."""

from __future__ import annotations

import warnings
from typing import Any, Callable, Iterable

import torch

from ..parameter import Parameter, zero_grads


class Optimizer:
    """Base class of mininet's optimizers.

    Args:
        params: an iterable of :class:`~mininet.Parameter`, or of dicts defining parameter groups
            (``{"params": [...], "lr": ...}``), as in torch.optim.
        defaults: the hyper-parameters a group gets when it does not set them.

    Attributes:
        param_groups: list of dicts, each with ``"params"`` and the group's hyper-parameters (schedulers
            change ``"lr"`` here).
        state: per-parameter state (momentum buffers, moments, step counts), keyed by parameter.
    """

    def __init__(self, params: Iterable[Parameter] | Iterable[dict[str, Any]], defaults: dict[str, Any]) -> None:
        if isinstance(params, (Parameter, torch.Tensor)):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got {type(params).__name__}")
        self.defaults = defaults
        self.state: dict[Parameter, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group (a dict with ``"params"`` and any per-group options), as torch's does.

        Parameters may be given as ``(name, parameter)`` pairs (``named_parameters()``); the names are then
        kept in the group's ``"param_names"``, all or none, in every group alike.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        params = [params] if isinstance(params, Parameter) else list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        group["params"] = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            group["param_names"] = names
        for p in group["params"]:
            if not isinstance(p, Parameter):
                raise TypeError(f"{type(self).__name__} can only optimize mininet Parameters, got {type(p).__name__}")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        if len({id(p) for p in group["params"]}) != len(group["params"]):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error (as torch warns)", UserWarning, stacklevel=3)
        for other in self.param_groups:
            if ("param_names" in group) != ("param_names" in other):
                which = "with names" if "param_names" in group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient (to ``None`` by default, as torch does)."""
        for group in self.param_groups:
            zero_grads(group["params"], set_to_none)

    @staticmethod
    def _with_grad(group: dict[str, Any]) -> tuple[list[Parameter], list[torch.Tensor], list[torch.Tensor]]:
        params = [p for p in group["params"] if p.grad is not None]
        return params, [p.data for p in params], [p.grad for p in params]

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; ``closure`` (re-evaluates the loss, as in
        torch) is called first and its result returned."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """Hyper-parameters and state, parameters referred to by their index (torch's layout)."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        params = [p for g in self.param_groups for p in g["params"]]
        for group, saved in zip(self.param_groups, state_dict["param_groups"]):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {}
        for i, s in state_dict["state"].items():
            p = params[int(i)]
            self.state[p] = {k: (v.to(p.data.device) if isinstance(v, torch.Tensor) else v) for k, v in s.items()}

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)
