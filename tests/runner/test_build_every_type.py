"""Every registered component type builds on both backends from its spec class alone, into twins.

Each spec is built with every optional field it can take changed from its default (so that a field
the builder failed to pass on would show). Layers: the same class, repr and state_dict keys, shapes
and dtypes. Losses: every field's value on both modules. Optimizers: every field in the param group
of both. Schedulers: the same learning rates over their first steps. New types are picked up from
the registry; a required field without an example value below fails the test with its name.
"""

from __future__ import annotations

import inspect
import typing

import pydantic
import pytest
import torch

import mininet
import mininet.runner.train  # noqa: F401  (registers both backends)
from mininet.runner.registry import BACKENDS, REGISTRY
from mininet.runner.train.build import construct

F64 = torch.float64
#: a value for each required field (and each inferable size a resolved spec would have)
EXAMPLES = {"out_features": 3, "in_features": 4, "out_channels": 3, "in_channels": 2, "kernel_size": 2,
            "num_features": 2, "normalized_shape": 4, "lr": 0.1, "step_size": 2, "gamma": 0.5, "T_max": 4,
            "milestones": [2, 4], "T_0": 3, "max_lr": 0.5, "total_steps": 20, "num_embeddings": 5,
            "embedding_dim": 4, "input_size": 4, "hidden_size": 3, "num_heads": 2, "embed_dim": 4,
            "num_positions": 6, "layers": [{"type": "linear", "in_features": 4, "out_features": 4}]}
#: optional fields given a non-default value, so that the builder is seen passing them on
OVERRIDES = {("loss", "cross_entropy"): {"weight": [1.0, 2.0, 0.5]}, ("loss", "nll"): {"weight": [1.0, 2.0, 0.5]}}
BUILT = ("layer", "loss", "optimizer", "scheduler")
TYPES = [(kind, tag) for (kind, tag) in REGISTRY.specs if kind in BUILT]


def example(kind: str, tag: str):
    """The spec with its required fields (and inferable sizes) set from EXAMPLES."""
    cls = REGISTRY.specs[(kind, tag)]
    values = {}
    for name, field in cls.model_fields.items():
        if name in EXAMPLES and (field.is_required() or field.default is None):
            values[name] = EXAMPLES[name]
        elif field.is_required() and name != "type":
            pytest.fail(f"{kind} {tag!r}: add an example value for its required field {name!r} to EXAMPLES")
    return cls(**values, **OVERRIDES.get((kind, tag), {}))


def leading(kind: str, backend: str = "torch") -> list:
    """The positional arguments before the spec's: an optimizer's parameters, a scheduler's optimizer."""
    layer = mininet.Linear(3, 2, dtype=F64) if backend == "mininet" else torch.nn.Linear(3, 2, dtype=F64)
    if kind == "optimizer":
        return [list(layer.parameters())]
    if kind == "scheduler":
        return [REGISTRY.backends[backend].optim.SGD(layer.parameters(), lr=0.1)]
    return []


def candidates(default, annotation) -> list:
    if isinstance(default, bool):
        return [not default]
    if isinstance(default, float):
        return [default / 2 if default else 0.05, default + 0.1]
    if isinstance(default, int):
        return [default + 1, default + 2]
    if isinstance(default, tuple):
        return [tuple(x * 0.9 for x in default)]
    if isinstance(default, str):
        return [a for a in typing.get_args(annotation) if a != default]
    return []


def varied(kind: str, tag: str):
    """``example`` with each optional field changed to the first other value that torch accepts."""
    spec = example(kind, tag)
    cls, values = type(spec), spec.model_dump()
    for name, field in cls.model_fields.items():
        if name == "type" or name in EXAMPLES or name in cls.not_arguments:
            continue
        for value in candidates(getattr(spec, name), field.annotation):
            try:
                construct("torch", kind, cls(**{**values, name: value}), *leading(kind), dtype=F64)
            except (pydantic.ValidationError, ValueError):
                continue
            values[name] = value
            break
    return cls(**values)


def reference(kind: str, spec, fields: list[str]):
    """The torch object written out by hand from the spec's fields: the oracle for the builder."""
    cls = REGISTRY.backends["torch"].find(kind, spec.builds)
    if spec.type == "residual":  # its layers, written out by hand too
        return cls(*(reference("layer", layer, _fields(layer)) for layer in spec.layers))
    kwargs = {name: getattr(spec, name) for name in fields}
    for name in spec.tensors:
        if kwargs[name] is not None:
            kwargs[name] = torch.tensor(kwargs[name], dtype=F64)
    if "dtype" in inspect.signature(cls).parameters:
        kwargs["dtype"] = F64
    return cls(*leading(kind), **kwargs)


def _fields(spec) -> list[str]:
    return [name for name in type(spec).model_fields if name != "type" and name not in spec.not_arguments]


def lr_sequence(scheduler, watches: bool) -> list:
    """The learning rates over 16 epochs; a scheduler that watches a metric sees one that worsens."""
    lrs = []
    for epoch in range(16):
        scheduler.optimizer.step()
        scheduler.step(*((float(epoch),) if watches else ()))
        lrs.append(scheduler.get_last_lr())
    return lrs


@pytest.mark.parametrize("kind,tag", TYPES, ids=[f"{k}-{t}" for k, t in TYPES])
def test_every_type_builds_twins_on_both_backends(kind, tag):
    spec = varied(kind, tag)
    fields = _fields(spec)
    assert sorted(REGISTRY.backends_for(kind, tag)) == sorted(BACKENDS)
    built = {b: construct(b, kind, spec, *leading(kind, b), dtype=F64, device="cpu") for b in BACKENDS}
    built["reference"] = reference(kind, spec, fields)
    if kind in ("layer", "loss"):
        assert {type(m).__name__ for m in built.values()} == {spec.builds}
        assert repr(built["mininet"]) == repr(built["torch"]) == repr(built["reference"])
        expected = built["reference"].state_dict()
        for backend, module in built.items():
            state = module.state_dict()
            assert list(state) == list(expected), backend
            for key in expected:
                assert state[key].shape == expected[key].shape and state[key].dtype == expected[key].dtype, key
                assert state[key].dtype in (F64, torch.int64), (backend, key)  # built in the dtype asked for
    if kind == "loss":
        for name in fields:
            want = getattr(built["reference"], name)
            for backend in BACKENDS:
                got = getattr(built[backend], name)
                assert torch.equal(got, want) if isinstance(want, torch.Tensor) else got == want, (backend, name)
    if kind == "optimizer":
        for backend in BACKENDS:
            group, want = built[backend].param_groups[0], built["reference"].param_groups[0]
            assert {n: group[n] for n in fields} == {n: want[n] for n in fields}, backend
    if kind == "scheduler":
        watches = getattr(spec, "monitor", None) is not None
        sequences = [lr_sequence(built[b], watches) for b in ("mininet", "torch", "reference")]
        assert sequences[0] == sequences[1] == sequences[2]


def test_a_spec_type_without_the_class_on_a_backend_says_so():
    spec = example("layer", "relu")
    cls = type(spec)
    saved = cls.builds
    try:
        cls.builds = "NoSuchLayer"
        assert REGISTRY.backends_for("layer", "relu") == []
        with pytest.raises(LookupError, match="the mininet backend has no layer of type 'relu'"):
            construct("mininet", "layer", spec)
    finally:
        cls.builds = saved
