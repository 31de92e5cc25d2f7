"""Helpers for replicated models: many independent copies of a model trained as one computation."""

from __future__ import annotations

from collections import OrderedDict
from typing import Mapping, Sequence

import torch


def stack_state_dicts(states: Sequence[Mapping[str, torch.Tensor]]) -> OrderedDict[str, torch.Tensor]:
    """Stack R state_dicts with equal keys into one whose tensors have a leading dimension R.

    Load the result into a model after ``model.replicate(R)``.
    """
    if not states:
        raise ValueError("stack_state_dicts needs at least one state_dict")
    keys = list(states[0].keys())
    for i, s in enumerate(states[1:], start=1):
        if list(s.keys()) != keys:
            raise ValueError(f"state_dict {i} has keys {list(s.keys())}, expected {keys}")
    return OrderedDict((k, torch.stack([s[k] for s in states])) for k in keys)


def unstack_state_dict(state: Mapping[str, torch.Tensor], index: int) -> OrderedDict[str, torch.Tensor]:
    """The state_dict of replica ``index`` of a replicated model's state_dict."""
    return OrderedDict((k, v[index]) for k, v in state.items())
