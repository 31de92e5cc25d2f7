"""mininet.optim against torch.optim: identical gradient sequences in, identical parameters out.

Each case runs 30 steps of a mininet optimizer on mininet Parameters and of the torch optimizer (its
single-tensor path, ``foreach=False``, which is what torch runs on CPU anyway) on leaf tensors whose
``.grad`` is set by hand, both fed the same pre-generated gradients. float64 must agree to rtol 1e-10;
float32 must be bit-identical, parameters and every state tensor.
"""

from __future__ import annotations

import copy
import inspect

import pytest
import torch

import mininet
from mininet import Parameter
from mininet.optim import SGD, Adagrad, Adam, AdamW, RMSprop

STEPS = 30
SHAPES = [(7, 5), (13,), (3, 4, 9), (1,)]  # odd sizes: vectorised bodies and scalar tails both run
PAIRS = {"SGD": (SGD, torch.optim.SGD), "Adam": (Adam, torch.optim.Adam), "AdamW": (AdamW, torch.optim.AdamW),
         "RMSprop": (RMSprop, torch.optim.RMSprop), "Adagrad": (Adagrad, torch.optim.Adagrad)}

CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.7, nesterov=True, weight_decay=0.05, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99))),
    ("Adam", dict(lr=0.01, eps=1e-3)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("Adam", dict(lr=0.02, betas=(0.5, 0.9), eps=1e-6, weight_decay=0.05, amsgrad=True, maximize=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, weight_decay=0.0)),
    ("AdamW", dict(lr=0.01, betas=(0.7, 0.95), eps=1e-4, amsgrad=True, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.95, momentum=0.5, centered=True)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1, eps=1e-4)),
    ("RMSprop", dict(lr=0.01, momentum=0.3, centered=True, weight_decay=0.02, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, eps=1e-3, maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.1, maximize=True)),
    # 1-element tensor learning rates (torch squeezes them to 0-d and computes the step sizes with them)
    ("SGD", dict(lr=torch.tensor([0.05]), momentum=0.9, nesterov=True)),
    ("Adam", dict(lr=torch.tensor([0.01]), amsgrad=True)),
    ("Adam", dict(lr=torch.tensor(0.01), betas=(torch.tensor([0.8]), torch.tensor(0.99)))),
    ("AdamW", dict(lr=torch.tensor([[0.01]]), weight_decay=0.1)),
    ("RMSprop", dict(lr=torch.tensor([0.01]), momentum=0.5)),
    ("Adagrad", dict(lr=torch.tensor([0.1]), lr_decay=0.05)),
]
CASE_IDS = [f"{name}-" + (",".join(f"{k}={v}" for k, v in kw.items()) or "defaults") for name, kw in CASES]
DEFAULTS = [(name, {}) for name in PAIRS]


def make_data(dtype: torch.dtype, shapes=SHAPES, steps: int = STEPS, seed: int = 0, holes: bool = False):
    """Initial values and a gradient sequence; gradient scales jump around (so AMSGrad's max matters).

    With ``holes``, some parameters have no gradient at some steps (``None``), which torch skips.
    """
    g = torch.Generator().manual_seed(seed)
    init = [torch.randn(s, generator=g, dtype=dtype) for s in shapes]
    scales = [1.0, 0.01, 3.0, 0.001, 0.3]
    grads = []
    for t in range(steps):
        step = [torch.randn(s, generator=g, dtype=dtype) * scales[(t + i) % len(scales)]
                for i, s in enumerate(shapes)]
        if holes:
            step = [None if (t + i) % 3 == 0 else x for i, x in enumerate(step)]
        grads.append(step)
    return init, grads


def build(name: str, init, groups=None, **kwargs):
    """The mininet and the torch optimizer over copies of ``init``.

    ``groups``: list of (indices, options) to build parameter groups instead of one plain list.
    """
    mn_cls, t_cls = PAIRS[name]
    mn_params = [Parameter(x.clone()) for x in init]
    t_params = [x.clone().requires_grad_() for x in init]
    if groups is None:
        mn_arg, t_arg = mn_params, t_params
    else:
        mn_arg = [{"params": [mn_params[i] for i in idx], **opts} for idx, opts in groups]
        t_arg = [{"params": [t_params[i] for i in idx], **opts} for idx, opts in groups]
    return mn_params, t_params, mn_cls(mn_arg, **kwargs), t_cls(t_arg, foreach=False, **kwargs)


def feed(mn_params, t_params, grads) -> None:
    for p, tp, g in zip(mn_params, t_params, grads):
        p.grad = None if g is None else g.clone()
        tp.grad = None if g is None else g.clone()


def run(name: str, init, grad_seq, groups=None, **kwargs):
    mn_params, t_params, mn_opt, t_opt = build(name, init, groups, **kwargs)
    for grads in grad_seq:
        feed(mn_params, t_params, grads)
        mn_opt.step()
        t_opt.step()
    return mn_params, t_params, mn_opt, t_opt


def assert_same(mn_params, t_params, mn_opt, t_opt) -> None:
    """Parameters and every state entry equal: bit for bit in float32, to rtol 1e-10 in float64."""
    exact = mn_params[0].dtype == torch.float32
    for i, (p, tp) in enumerate(zip(mn_params, t_params)):
        pairs = [("param", p.data, tp.detach())]
        t_state = t_opt.state.get(tp, {})
        mn_state = mn_opt.state.get(p, {})
        assert set(mn_state) == set(t_state), f"param {i}: state keys {set(mn_state)} != {set(t_state)}"
        pairs += [(k, mn_state[k], t_state[k]) for k in t_state]
        for what, a, b in pairs:
            if exact:
                assert torch.equal(a, b), f"param {i} {what}: max |diff| {(a - b).abs().max().item():.3e}"
            else:
                torch.testing.assert_close(a, b, rtol=1e-10, atol=0, msg=lambda m: f"param {i} {what}: {m}")


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=CASE_IDS)
def test_matches_torch(name, kwargs, dtype):
    init, grads = make_data(dtype)
    assert_same(*run(name, init, grads, **kwargs))


@pytest.mark.parametrize("name,kwargs", DEFAULTS, ids=list(PAIRS))
def test_parameters_without_grad_are_skipped(name, kwargs):
    # Per-parameter step counts then differ (Adam's bias corrections, Adagrad's lr decay).
    init, grads = make_data(torch.float32, holes=True)
    kwargs = {"lr": 0.05, "momentum": 0.9} if name == "SGD" else kwargs
    assert_same(*run(name, init, grads, **kwargs))


@pytest.mark.parametrize("name", list(PAIRS))
def test_grads_are_not_modified(name):
    init, grads = make_data(torch.float32, steps=3)
    kwargs = {"momentum": 0.9, "weight_decay": 0.1, "maximize": True} if name == "SGD" else {
        "weight_decay": 0.1, "maximize": True}
    mn_params, t_params, mn_opt, _ = build(name, init, **kwargs)
    for step in grads:
        feed(mn_params, t_params, step)
        mn_opt.step()
        for p, g in zip(mn_params, step):
            assert torch.equal(p.grad, g)


GROUP_OPTS = {
    "SGD": [({"lr": 0.1}, {"lr": 0.01, "momentum": 0.9})],
    "Adam": [({"lr": 0.01}, {"lr": 0.001, "weight_decay": 0.1})],
    "AdamW": [({"lr": 0.01}, {"lr": 0.003, "weight_decay": 0.5})],
    "RMSprop": [({"lr": 0.01}, {"lr": 0.001, "centered": True})],
    "Adagrad": [({"lr": 0.1}, {"lr": 0.02, "lr_decay": 0.1})],
}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", list(PAIRS))
def test_param_groups_with_different_lrs(name, dtype):
    (first, second), = GROUP_OPTS[name]
    init, grads = make_data(dtype)
    mn_params, t_params, mn_opt, t_opt = run(name, init, grads, groups=[([0, 2], first), ([1, 3], second)])
    assert [g["lr"] for g in mn_opt.param_groups] == [first["lr"], second["lr"]]
    assert_same(mn_params, t_params, mn_opt, t_opt)


def test_groups_really_use_their_own_lr():
    # Guard against a test that cannot fail: a different lr in the second group changes its parameters.
    init, grads = make_data(torch.float64, steps=3)
    a, *_ = run("Adam", init, grads, groups=[([0, 1], {"lr": 0.01}), ([2, 3], {"lr": 0.01})])
    b, *_ = run("Adam", init, grads, groups=[([0, 1], {"lr": 0.01}), ([2, 3], {"lr": 0.02})])
    assert torch.equal(a[0].data, b[0].data) and not torch.equal(a[2].data, b[2].data)


@pytest.mark.parametrize("name", list(PAIRS))
def test_zero_grad(name):
    init, grads = make_data(torch.float32, steps=2)
    mn_params, t_params, mn_opt, t_opt = build(name, init)
    feed(mn_params, t_params, grads[0])
    mn_opt.step()
    t_opt.step()
    held = [p.grad for p in mn_params]
    mn_opt.zero_grad(set_to_none=False)
    t_opt.zero_grad(set_to_none=False)
    for p, tp, g in zip(mn_params, t_params, held):
        assert p.grad is g and torch.equal(p.grad, torch.zeros_like(p.data))  # zeroed in place
        assert torch.equal(tp.grad, p.grad)
    mn_opt.zero_grad()  # default: set_to_none=True, as torch
    t_opt.zero_grad()
    assert all(p.grad is None for p in mn_params) and all(tp.grad is None for tp in t_params)
    # A step with no gradients at all changes nothing, in both.
    before = [p.data.clone() for p in mn_params]
    mn_opt.step()
    t_opt.step()
    assert all(torch.equal(p.data, b) for p, b in zip(mn_params, before))
    assert_same(mn_params, t_params, mn_opt, t_opt)


REPLICA_CASES = [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
                 ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
                 ("AdamW", dict(lr=0.01, weight_decay=0.1)),
                 ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
                 ("Adagrad", dict(lr=0.1, lr_decay=0.01))]


@pytest.mark.parametrize("name,kwargs", REPLICA_CASES, ids=[c[0] for c in REPLICA_CASES])
def test_replicated_parameters_equal_separate_optimizers(name, kwargs):
    """One optimizer over (R, ...) parameters == R torch optimizers, one per replica, bit for bit."""
    R = 4
    init, grads = make_data(torch.float32, shapes=[(R, *s) for s in SHAPES], steps=20)
    mn_cls, t_cls = PAIRS[name]
    stacked = [Parameter(x.clone()) for x in init]
    mn_opt = mn_cls(stacked, **kwargs)
    replicas = [[x[r].clone().requires_grad_() for x in init] for r in range(R)]
    t_opts = [t_cls(ps, foreach=False, **kwargs) for ps in replicas]
    for step in grads:
        for p, g in zip(stacked, step):
            p.grad = g.clone()
        mn_opt.step()
        for r in range(R):
            for tp, g in zip(replicas[r], step):
                tp.grad = g[r].clone()
            t_opts[r].step()
    for i, p in enumerate(stacked):
        for r in range(R):
            assert torch.equal(p.data[r], replicas[r][i].detach()), f"param {i}, replica {r}"


@pytest.mark.parametrize("name,kwargs", REPLICA_CASES, ids=[c[0] for c in REPLICA_CASES])
def test_state_dict_moves_between_mininet_and_torch(name, kwargs):
    """Halfway through, each side's optimizer state_dict is loaded into the other library; the runs go on
    bit-identically, so the state layout (names, step counters) is torch's."""
    init, grads = make_data(torch.float32, steps=10)
    mn_params, t_params, mn_opt, t_opt = build(name, init, **kwargs)
    for step in grads[:5]:
        feed(mn_params, t_params, step)
        mn_opt.step()
        t_opt.step()
    mn_params2, t_params2, mn_opt2, t_opt2 = build(name, [p.data for p in mn_params], **kwargs)
    # deepcopy, as saving to disk would: state_dicts (torch's too) hold the live state tensors.
    mn_opt2.load_state_dict(copy.deepcopy(t_opt.state_dict()))
    t_opt2.load_state_dict(copy.deepcopy(mn_opt.state_dict()))
    for step in grads[5:]:
        feed(mn_params2, t_params2, step)
        mn_opt2.step()
        t_opt2.step()
        feed(mn_params, t_params, step)
        mn_opt.step()
    assert_same(mn_params2, t_params2, mn_opt2, t_opt2)
    assert all(torch.equal(a.data, b.data) for a, b in zip(mn_params, mn_params2))


@pytest.mark.parametrize("name,kwargs", [
    ("Adam", dict(lr=-1.0)), ("Adam", dict(betas=(1.0, 0.9))), ("Adam", dict(betas=(0.9, -0.1))),
    ("Adam", dict(eps=-1.0)), ("AdamW", dict(weight_decay=-0.1)), ("RMSprop", dict(alpha=-0.5)),
    ("RMSprop", dict(momentum=-0.5)), ("Adagrad", dict(lr_decay=-1.0)),
    ("Adagrad", dict(initial_accumulator_value=-1.0)), ("SGD", dict(nesterov=True)),
])
def test_invalid_hyperparameters_raise_like_torch(name, kwargs):
    mn_cls, t_cls = PAIRS[name]
    with pytest.raises(ValueError):
        t_cls([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError):
        mn_cls([Parameter(torch.zeros(2))], **kwargs)


def test_defaults_are_torchs():
    p = [Parameter(torch.zeros(2))]
    t = [torch.zeros(2, requires_grad=True)]
    for name, (mn_cls, t_cls) in PAIRS.items():
        mn_group, t_group = mn_cls(p).param_groups[0], t_cls(t).param_groups[0]
        for key, value in mn_group.items():
            if key != "params":
                assert t_group[key] == value, f"{name}.{key}: {value} != torch's {t_group[key]}"


def test_parameter_lists_are_checked_as_torch_does():
    a, b = mininet.Linear(2, 2).parameters(), mininet.Linear(2, 2)
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="SGD can only optimize mininet Parameters, got Tensor"):
        SGD([torch.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": list(b.parameters())}, {"params": [b.weight]}], lr=0.1)
    opt = Adam([{"params": list(a)}, {"params": b.weight, "lr": 0.5}], lr=0.1)
    assert [len(g["params"]) for g in opt.param_groups] == [2, 1]
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    text = repr(opt)
    assert text.startswith("Adam (\nParameter Group 0\n") and "    lr: 0.5" in text and text.endswith(")")


@pytest.mark.parametrize("name", list(PAIRS))
def test_constructor_signature_is_torchs(name):
    """Every argument torch's constructor has, in torch's order and kind (positional / keyword-only), with
    torch's default: code written for torch.optim runs unchanged."""
    def described(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls.__init__).parameters.values()]
    mn_cls, t_cls = PAIRS[name]
    assert described(mn_cls) == described(t_cls)


REFUSED = [(name, flag) for name, (_, t_cls) in PAIRS.items() for flag in ("capturable", "differentiable")
           if flag in inspect.signature(t_cls.__init__).parameters]  # SGD and Adagrad have no capturable


@pytest.mark.parametrize("name,flag", REFUSED)
def test_capturable_and_differentiable_are_refused_by_name(name, flag):
    mn_cls, _ = PAIRS[name]
    with pytest.raises(NotImplementedError, match=f"{flag}=True"):
        mn_cls([Parameter(torch.zeros(2))], **{flag: True})
    mn_cls([Parameter(torch.zeros(2))], **{flag: False})  # False is torch's default and fine
