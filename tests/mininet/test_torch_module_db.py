"""torch.nn's own module test inputs through mininet: every sample equals torch, or the test fails.

torch ships its module test suite's inputs in the wheel (``torch.testing._internal.common_modules``,
``module_db``). For every ``ModuleInfo`` whose class name mininet exports (picked by name, so a class
added to mininet later is tested from that day on), every sample of ``module_inputs_func`` runs through
both libraries, in training mode and, where torch says the two differ, in evaluation mode; and each
sample runs a second time made non-contiguous the way torch's ``test_modules.py``
(``test_non_contiguous_tensors``) makes it: ``repeat_interleave(t, 2, dim=-1)[..., ::2]`` of every
tensor, the output gradients included.

Both modules hold the same state (mininet loads torch's state_dict); torch's gradients come from
autograd, mininet's from its hand-written ``backward`` under ``torch.inference_mode()``. Compared in
float64 (rtol 1e-10, atol 1e-12): every output, the gradient of every tensor input that takes one, every
parameter gradient, and the state after the forward (running statistics).

Several tensors follow mininet's convention: ``backward`` takes one gradient per tensor output
(forward's return value flattened; None for one that does not reach the loss, e.g. indices) and returns
one tensor, or a tuple with one entry per tensor input in forward's positional order (None where there
is no gradient). A loss's ``backward`` returns d loss / d input only (mininet's loss API), so torch is
given the target detached.
"""

from __future__ import annotations

import inspect
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import pytest
import torch
from torch.testing import assert_close
from torch.testing._internal.common_modules import module_db
from torch.utils._pytree import tree_flatten, tree_map

import mininet

TOL = {"rtol": 1e-10, "atol": 1e-12}
SAMPLE_SEED = 0
FORWARD_SEED = 1234

# The ONE list of deliberate exclusions: (class name, predicate on the sample, why). A sample that
# mininet does not support and that is not listed here fails. Empty today: mininet takes every sample
# torch has for the modules it exports.
EXCLUDED: list[tuple[str, Callable[[Any], bool], str]] = []


@dataclass(frozen=True)
class Sample:
    info: Any  # torch's ModuleInfo
    training: bool
    index: int
    sample: Any  # torch's ModuleInput
    contiguous: bool

    @property
    def name(self) -> str:
        return self.info.module_cls.__name__


def _samples() -> list[Any]:
    params = []
    torch.manual_seed(SAMPLE_SEED)
    for info in module_db:
        name = info.module_cls.__name__
        if not isinstance(getattr(mininet, name, None), type):
            continue
        for training in (True, False) if info.train_and_eval_differ else (True,):
            inputs = info.module_inputs_func(info, device="cpu", dtype=torch.float64, requires_grad=True,
                                             training=training)
            for index, sample in enumerate(inputs):
                if sample.forward_input is None:
                    continue
                for contiguous in (True, False):
                    s = Sample(info, training, index, sample, contiguous)
                    why = next((why for cls, pred, why in EXCLUDED if cls == name and pred(sample)), None)
                    marks = [pytest.mark.skip(reason=f"excluded: {why}")] if why else []
                    mode = "train" if training else "eval"
                    layout = "contiguous" if contiguous else "noncontiguous"
                    params.append(pytest.param(s, id=f"{name}-{mode}-{index}-{sample.desc or 'default'}-{layout}",
                                               marks=marks))
    return params


SAMPLES = _samples()


def test_module_db_covers_mininet():
    # the selection by name found the modules mininet had when this test was written (at least)
    names = {p.values[0].name for p in SAMPLES}
    assert {"Linear", "Conv2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "CrossEntropyLoss", "NLLLoss",
            "MSELoss", "MaxPool2d", "AvgPool2d", "ReLU"} <= names
    assert len(EXCLUDED) <= 5, "the exclusion list is meant to stay short"
    # these take every sample torch has for them, without exception
    assert not {cls for cls, _, _ in EXCLUDED} & {"CrossEntropyLoss", "NLLLoss", "BatchNorm1d", "BatchNorm2d", "Linear"}


def _non_contiguous(obj: Any) -> Any:
    """torch's test_non_contiguous_tensors transform, on every tensor of ``obj`` but 0-d ones."""
    def transform(t: torch.Tensor) -> torch.Tensor:
        if t.dim() == 0:
            return t
        out = torch.repeat_interleave(t, 2, dim=-1)[..., ::2].detach()
        out.requires_grad = t.requires_grad
        return out
    return _map_tensors(transform, obj)


def _copy(obj: Any, keep_grad: bool) -> Any:
    """Fresh leaves (same strides): for torch (requires_grad as given) or for mininet (plain tensors)."""
    def copy(t: torch.Tensor) -> torch.Tensor:
        out = t.detach().clone(memory_format=torch.preserve_format)
        return out.requires_grad_() if keep_grad and t.requires_grad else out
    return _map_tensors(copy, obj)


def _map_tensors(fn: Callable[[torch.Tensor], torch.Tensor], obj: Any) -> Any:
    """``fn`` on every tensor of ``obj``; a tensor given twice (one tensor as query, key and value) maps
    to one result, so that it stays one tensor."""
    done: dict[int, torch.Tensor] = {}

    def once(t: Any) -> Any:
        if not isinstance(t, torch.Tensor):
            return t
        if id(t) not in done:
            done[id(t)] = fn(t)
        return done[id(t)]
    return tree_map(once, obj)


def _tensor_inputs(forward: Callable, args: tuple, kwargs: dict) -> list[torch.Tensor]:
    """The tensors given to forward, in the order of its positional signature, nested ones flattened."""
    bound = inspect.signature(forward).bind(*args, **kwargs)
    leaves, _ = tree_flatten(list(bound.arguments.values()))
    return [t for t in leaves if isinstance(t, torch.Tensor)]


def _as_tuple(grads: Any) -> tuple:
    if isinstance(grads, torch.Tensor) or grads is None:
        return (grads,)
    leaves, _ = tree_flatten(grads)
    return tuple(leaves)


def _twin(value: Any) -> Any:
    """A constructor argument for mininet: a torch layer that a sample passes in (TransformerEncoder
    takes one) is rebuilt as the mininet layer of the same settings; anything else as it is."""
    if isinstance(value, torch.nn.TransformerEncoderLayer):
        attention = value.self_attn
        activation = {1: "relu", 2: "gelu"}[value.activation_relu_or_gelu]  # the samples' activations
        return mininet.TransformerEncoderLayer(
            attention.embed_dim, attention.num_heads, value.linear1.out_features, value.dropout.p, activation,
            value.norm1.eps, attention.batch_first, value.norm_first, value.linear1.bias is not None)
    return value


@pytest.mark.parametrize("s", SAMPLES)
def test_sample_matches_torch(s: Sample):
    info, sample = s.info, s.sample
    c_args, c_kwargs = sample.constructor_input.args, sample.constructor_input.kwargs
    ref = info.module_cls(*c_args, **c_kwargs).to(torch.float64).train(s.training)
    m_c_args = tuple(_twin(a) for a in _copy(c_args, False))
    m_c_kwargs = {k: _twin(v) for k, v in _copy(c_kwargs, False).items()}
    mod = getattr(mininet, s.name)(*m_c_args, **m_c_kwargs).to(torch.float64)
    mod.train(s.training)
    mod.load_state_dict(ref.state_dict())
    is_loss = isinstance(ref, torch.nn.modules.loss._Loss)

    args, kwargs = sample.forward_input.args, sample.forward_input.kwargs
    if is_loss:  # the target's gradient is not part of mininet's loss API
        args = args[:1] + _copy(args[1:], False)
        kwargs = {k: _copy(v, False) if k == "target" else v for k, v in kwargs.items()}
    t_args, t_kwargs = _copy((args, kwargs), True)
    m_args, m_kwargs = _copy((args, kwargs), False)
    if not s.contiguous:
        (t_args, t_kwargs) = _non_contiguous((t_args, t_kwargs))
        (m_args, m_kwargs) = _non_contiguous((m_args, m_kwargs))

    with warnings.catch_warnings(record=True) as warned_ref:
        warnings.simplefilter("always")
        torch.manual_seed(FORWARD_SEED)
        out_ref = ref(*t_args, **t_kwargs)
    with warnings.catch_warnings(record=True) as warned, torch.inference_mode():
        warnings.simplefilter("always")
        torch.manual_seed(FORWARD_SEED)
        out = mod(*m_args, **m_kwargs)
    # a warning from mininet where torch gives none is a difference too
    assert {w.category for w in warned} <= {w.category for w in warned_ref}, [str(w.message) for w in warned]
    outs_ref, _ = tree_flatten(out_ref)
    outs, _ = tree_flatten(out)
    assert len(outs) == len(outs_ref), f"{len(outs)} outputs, torch gives {len(outs_ref)}"
    for i, (o, o_ref) in enumerate(zip(outs, outs_ref)):
        if o_ref is None or o is None:  # e.g. attention weights not asked for
            assert o is o_ref, f"output {i}: {type(o).__name__}, torch {type(o_ref).__name__}"
            continue
        assert o.shape == o_ref.shape and o.dtype == o_ref.dtype, (
            f"output {i}: {o.dtype} {tuple(o.shape)}, torch {o_ref.dtype} {tuple(o_ref.shape)}")
        assert_close(o, o_ref.detach(), **TOL, equal_nan=True, msg=lambda m, i=i: f"output {i}: {m}")

    # One random gradient per output that autograd differentiates; None for the others (indices).
    torch.manual_seed(FORWARD_SEED + 1)
    grads = [torch.randn_like(o) if o is not None and o.requires_grad else None for o in outs_ref]
    if not s.contiguous:
        grads = _non_contiguous(grads)
    differentiated = [(o, g) for o, g in zip(outs_ref, grads) if g is not None]
    if differentiated:
        torch.autograd.backward([o for o, _ in differentiated], [g for _, g in differentiated])
    mod.zero_grad()
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("error")  # autograd's backward gave none
        grad_inputs = _as_tuple(mod.backward(*[None if g is None else g.clone() for g in grads]))

    # Input gradients, by position; one tensor given as several inputs gets their sum (as autograd).
    inputs_ref = _tensor_inputs(ref.forward, t_args, t_kwargs)
    expected: dict[int, torch.Tensor | None] = {}
    actual: dict[int, torch.Tensor | None] = {}
    for k, t in enumerate(inputs_ref):
        g = grad_inputs[k] if k < len(grad_inputs) else None
        if t.requires_grad:
            assert g is not None, f"no gradient for tensor input {k}, torch has one"
            actual[id(t)] = g if actual.get(id(t)) is None else actual[id(t)] + g
            expected[id(t)] = t.grad
        else:
            assert g is None, f"a gradient for tensor input {k}, which takes none"
    assert all(g is None for g in grad_inputs[len(inputs_ref):]), "gradients for inputs that were not given"
    for key, g_ref in expected.items():
        g_ref = torch.zeros_like(actual[key]) if g_ref is None else g_ref
        assert actual[key].shape == g_ref.shape
        assert_close(actual[key], g_ref, **TOL, equal_nan=True)

    ref_params, mod_params = dict(ref.named_parameters()), dict(mod.named_parameters())
    assert list(mod_params) == list(ref_params)
    for name, p in mod_params.items():
        g_ref = ref_params[name].grad
        g_ref = torch.zeros_like(p.data) if g_ref is None else g_ref
        assert p.grad is not None, f"no gradient for {name}"
        assert_close(p.grad, g_ref, **TOL, equal_nan=True, msg=lambda m, n=name: f"grad of {name}: {m}")

    state, state_ref = mod.state_dict(), ref.state_dict()
    assert list(state) == list(state_ref)
    for key, value in state_ref.items():
        assert_close(state[key], value, **TOL, equal_nan=True, msg=lambda m, k=key: f"{k}: {m}")
