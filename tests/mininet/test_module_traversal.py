"""Module.apply, get_submodule / get_parameter / get_buffer, register_module, cpu: as torch.nn.Module."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import mininet


def model(ns):
    block = ns.Sequential(ns.Linear(3, 4), ns.BatchNorm1d(4), ns.ReLU())
    return ns.Sequential(block, ns.Linear(4, 2))


def test_apply_visits_children_first_like_torch():
    visited = {}
    for ns in (nn, mininet):
        names = []
        model(ns).apply(lambda m, names=names: names.append(type(m).__name__))
        visited[ns.__name__] = names
    assert visited["mininet"] == visited["torch.nn"]
    assert visited["mininet"][-1] == "Sequential" and visited["mininet"][0] == "Linear"


def test_apply_initialises_like_torch():
    # the report's initialisation, written the usual torch way, gives torch's bits
    def init_with(ns_init, linear):
        def init_weights(m):
            if isinstance(m, linear):
                ns_init.xavier_normal_(m.weight if linear is nn.Linear else m.weight.data)
                ns_init.zeros_(m.bias if linear is nn.Linear else m.bias.data)
        return init_weights

    torch.manual_seed(0)
    ref = model(nn)
    with torch.no_grad():
        ref.apply(init_with(nn.init, nn.Linear))
    torch.manual_seed(0)
    ours = model(mininet).apply(init_with(mininet.init, mininet.Linear))
    for k, v in ref.state_dict().items():
        assert torch.equal(ours.state_dict()[k], v), k


@pytest.mark.parametrize("getter, target, expected", [
    ("get_submodule", "", "Sequential"),
    ("get_submodule", "0.1", "BatchNorm1d"),
    ("get_parameter", "0.0.weight", (4, 3)),
    ("get_parameter", "1.bias", (2,)),
    ("get_buffer", "0.1.running_var", (4,)),
])
def test_getters_find_what_torch_finds(getter, target, expected):
    for ns in (nn, mininet):
        found = getattr(model(ns), getter)(target)
        assert (type(found).__name__ if getter == "get_submodule" else tuple(found.shape)) == expected


@pytest.mark.parametrize("getter, target, message", [
    ("get_submodule", "0.5", "Sequential has no submodule `5`"),
    ("get_parameter", "0.2.weight", "ReLU has no parameter `weight`"),
    ("get_parameter", "0.0.running_mean", "Linear has no parameter `running_mean`"),
    ("get_buffer", "0.1.weight", "BatchNorm1d has no buffer `weight`"),
])
def test_getters_name_what_is_missing(getter, target, message):
    with pytest.raises(AttributeError, match=message):
        getattr(model(mininet), getter)(target)
    with pytest.raises(AttributeError):  # torch refuses the same paths
        getattr(model(nn), getter)(target)


def test_register_module_and_cpu():
    m = mininet.Sequential(mininet.Linear(2, 2))
    m.register_module("head", mininet.Tanh())
    assert list(m._modules) == ["0", "head"] and m(torch.randn(1, 2)).abs().max() <= 1
    assert m.cpu() is m and m[0].weight.device.type == "cpu"
