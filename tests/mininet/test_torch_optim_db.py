"""mininet.optim against torch's own optimizer test database (torch.testing._internal.common_optimizers).

For every OptimizerInfo in torch's ``optim_db`` whose class mininet has (by name), every constructor sample
``optim_inputs_func(device="cpu")`` gives, with the implementation variants torch's tests derive from it
(``_get_optim_inputs_including_global_cliquey_kwargs``: foreach / fused / differentiable; torch derives
foreach only on CUDA, we add it on CPU as well), runs 20 steps of mininet and of torch on identical float64
parameters. Each side's gradient is computed from its own current parameters by the same formula (a fixed
quadratic), so a difference in any step feeds back into the next. Every parameter, every state entry and
every group's hyper-parameters are compared after each step, once with the parameters in one group and once
split into two groups (the second with half the sample's lr, a tensor if the sample's is one).

``optim_error_inputs_func``'s argument errors: mininet raises the same exception type (or warning) with
torch's message.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
from torch.testing._internal.common_optimizers import (
    OptimizerErrorEnum,
    _get_optim_inputs_including_global_cliquey_kwargs,
    optim_db,
)

import mininet.optim
from mininet import Parameter

STEPS = 20
SHAPES = [(3, 4), (4,), (2, 1, 3)]
INFOS = [info for info in optim_db if hasattr(mininet.optim, info.name)]

# The one exclusion list. Samples matching an entry are not compared with torch; instead mininet must raise
# the named error (so the entry cannot hide a silent acceptance).
#   differentiable=True: autograd through the optimizer step; mininet has no autograd, so it refuses.
#   capturable=True: CUDA-graph capture; refused likewise (optim_db only has it in CUDA samples).
EXCLUDED = {"differentiable": NotImplementedError, "capturable": NotImplementedError}


def _samples() -> list[tuple[str, dict[str, Any], str]]:
    out = []
    for info in INFOS:
        inputs = _get_optim_inputs_including_global_cliquey_kwargs("cpu", torch.float64, info)
        if "foreach" in info.supported_impls:  # the variant torch derives on CUDA; torch runs it on CPU too
            bases = [i for i in inputs if not any(i.kwargs.get(flag) for flag in ("fused", "differentiable"))]
            inputs = inputs + [type(i)(params=None, kwargs={**i.kwargs, "foreach": True}, desc=f"{i.desc} & foreach")
                               for i in bases]
        assert inputs, f"{info.name}: torch's optim_db gave no samples"
        out += [(info.name, i.kwargs, i.desc) for i in inputs]
    return out


SAMPLES = _samples()
SAMPLE_IDS = [f"{name}-{desc}" for name, _, desc in SAMPLES]


def _problem():
    """Initial parameters and a fixed quadratic 0.5 * sum(a * p**2) + sum(b * p) (gradient a * p + b)."""
    g = torch.Generator().manual_seed(0)
    init = [torch.randn(s, generator=g, dtype=torch.float64) for s in SHAPES]
    a = [torch.rand(s, generator=g, dtype=torch.float64) * 2 + 0.1 for s in SHAPES]
    b = [torch.randn(s, generator=g, dtype=torch.float64) for s in SHAPES]
    return init, a, b


def _arrange(params: list, kwargs: dict[str, Any], grouped: bool):
    if not grouped:
        return params
    lr = kwargs.get("lr", 0.01)
    return [{"params": params[:1]}, {"params": params[1:], "lr": lr * 0.5}]  # a tensor stays a tensor


def _construct(name: str, params, kwargs: dict[str, Any]):
    """torch's and mininet's constructor on deep copies of kwargs (tensor lrs must not be shared)."""
    return getattr(mininet.optim, name)(params, **copy.deepcopy(kwargs))


def _excluded(kwargs: dict[str, Any]) -> type[Exception] | None:
    return next((err for flag, err in EXCLUDED.items() if kwargs.get(flag)), None)


def _assert_same_value(a, b, what: str) -> None:
    if isinstance(b, torch.Tensor):
        assert isinstance(a, torch.Tensor), f"{what}: {type(a).__name__} where torch has a tensor"
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12, msg=lambda m: f"{what}: {m}")
    elif isinstance(b, tuple):
        assert isinstance(a, tuple) and len(a) == len(b), f"{what}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same_value(x, y, f"{what}[{i}]")
    else:
        assert a == b, f"{what}: {a!r} != torch's {b!r}"


def _assert_same(mn_opt, t_opt, mn_params, t_params, step: int) -> None:
    for i, (p, tp) in enumerate(zip(mn_params, t_params)):
        _assert_same_value(p.data, tp.detach(), f"step {step}, param {i}")
        mn_state, t_state = mn_opt.state.get(p, {}), t_opt.state.get(tp, {})
        assert set(mn_state) == set(t_state), f"step {step}, param {i}: state {set(mn_state)} != {set(t_state)}"
        for key in t_state:
            _assert_same_value(mn_state[key], t_state[key], f"step {step}, param {i}, state {key!r}")
    for k, (mg, tg) in enumerate(zip(mn_opt.param_groups, t_opt.param_groups, strict=True)):
        assert set(mg) == set(tg), f"group {k}: keys {set(mg) ^ set(tg)} differ"
        for key in tg:
            if key != "params":
                _assert_same_value(mg[key], tg[key], f"step {step}, group {k}, {key!r}")


@pytest.mark.parametrize("grouped", [False, True], ids=["one-group", "two-groups"])
@pytest.mark.parametrize("name,kwargs,desc", SAMPLES, ids=SAMPLE_IDS)
def test_optim_db_sample_matches_torch(name, kwargs, desc, grouped):
    init, a, b = _problem()
    mn_params = [Parameter(x.clone()) for x in init]
    t_params = [x.clone().requires_grad_() for x in init]
    expected_error = _excluded(kwargs)
    if expected_error is not None:
        with pytest.raises(expected_error, match="|".join(k for k in EXCLUDED if kwargs.get(k))):
            _construct(name, _arrange(mn_params, kwargs, grouped), kwargs)
        return
    t_cls = next(info.optim_cls for info in INFOS if info.name == name)
    try:
        t_opt = t_cls(_arrange(t_params, kwargs, grouped), **copy.deepcopy(kwargs))
    except Exception as err:  # torch refuses this combination: mininet must refuse it the same way
        with pytest.raises(type(err)):
            _construct(name, _arrange(mn_params, kwargs, grouped), kwargs)
        return
    mn_opt = _construct(name, _arrange(mn_params, kwargs, grouped), kwargs)
    _assert_same(mn_opt, t_opt, mn_params, t_params, 0)
    for step in range(1, STEPS + 1):
        for p, tp, ai, bi in zip(mn_params, t_params, a, b):
            p.grad = torch.addcmul(bi, ai, p.data)
            tp.grad = torch.addcmul(bi, ai, tp.detach())
        mn_opt.step()
        t_opt.step()
        _assert_same(mn_opt, t_opt, mn_params, t_params, step)
    assert not torch.equal(mn_params[0].data, init[0])  # the sample really moved the parameters


def _to_mininet(structure, seen: dict[int, Parameter]):
    """optim_db's params argument (tensors, (name, tensor) pairs, group dicts), as mininet Parameters;
    the same torch tensor maps to the same Parameter, so duplicates stay duplicates."""
    if isinstance(structure, torch.Tensor):
        return seen.setdefault(id(structure), Parameter(structure.detach().clone()))
    if isinstance(structure, dict):
        return {k: _to_mininet(v, seen) if k == "params" else v for k, v in structure.items()}
    if isinstance(structure, tuple):  # (name, tensor)
        return tuple(_to_mininet(x, seen) for x in structure)
    if isinstance(structure, list):
        return [_to_mininet(x, seen) for x in structure]
    return structure  # a parameter's name


# torch's CUDA-only error inputs (common_optimizers.optim_error_inputs_func_adam / _adagrad, device "cuda"),
# transcribed because building them needs a CUDA tensor; the checks themselves are device-independent.
FUSED_ERRORS = [({"foreach": True, "fused": True}, RuntimeError, "`fused` and `foreach` cannot be `True` together"),
                ({"fused": True, "differentiable": True}, RuntimeError, "`fused` does not support `differentiable`")]


def _error_cases():
    cases = []
    for info in INFOS:
        for e in info.optim_error_inputs_func("cpu", torch.float64):
            cases.append((info.name, e.optimizer_error_input.params, e.optimizer_error_input.kwargs,
                          e.error_type, e.error_regex, e.error_on, e.optimizer_error_input.desc))
        if "fused" in info.supported_impls:
            cases += [(info.name, None, kw, err, regex, OptimizerErrorEnum.CONSTRUCTION_ERROR, regex)
                      for kw, err, regex in FUSED_ERRORS]
    return cases


ERROR_CASES = _error_cases()


@pytest.mark.parametrize("name,params,kwargs,error_type,regex,error_on,desc", ERROR_CASES,
                         ids=[f"{c[0]}-{c[6]}" for c in ERROR_CASES])
def test_optim_db_error_inputs_raise_like_torch(name, params, kwargs, error_type, regex, error_on, desc):
    assert error_on == OptimizerErrorEnum.CONSTRUCTION_ERROR  # all of these are argument checks
    t_cls = next(info.optim_cls for info in INFOS if info.name == name)
    t_params = params if params is not None else [torch.nn.Parameter(torch.randn(2, 2, dtype=torch.float64))]
    mn_params = _to_mininet(t_params, {})
    if issubclass(error_type, Warning):
        for cls, ps in ((t_cls, t_params), (getattr(mininet.optim, name), mn_params)):
            with pytest.warns(error_type, match=regex):
                cls(ps, **copy.deepcopy(kwargs))
        return
    with pytest.raises(error_type, match=regex):  # the oracle: torch itself raises it
        t_cls(t_params, **copy.deepcopy(kwargs))
    with pytest.raises(error_type, match=regex):
        _construct(name, mn_params, kwargs)


def test_the_database_covers_every_mininet_optimizer():
    """A renamed class or a torch upgrade that drops an entry must not quietly shrink this file's coverage."""
    assert sorted(info.name for info in INFOS) == sorted(["Adagrad", "Adam", "AdamW", "RMSprop", "SGD"])
    compared = [(name, kw) for name, kw, _ in SAMPLES if _excluded(kw) is None]
    assert {name for name, _ in compared} == {info.name for info in INFOS}
    assert any(isinstance(kw.get("lr"), torch.Tensor) for _, kw in compared)
