"""mininet.optim.lr_scheduler against torch.optim.lr_scheduler: the same learning rates, float for float."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch

from mininet import Parameter
from mininet.optim import SGD, Adam, lr_scheduler

EPOCHS = 25
LRS = [0.1, 0.03]  # two parameter groups with different rates

CASES = [
    ("StepLR", dict(step_size=3)),
    ("StepLR", dict(step_size=1, gamma=0.9)),
    ("StepLR", dict(step_size=4, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("ExponentialLR", dict(gamma=0.37)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("CosineAnnealingLR", dict(T_max=7, eta_min=0.01)),
    ("CosineAnnealingLR", dict(T_max=3, eta_min=1e-3)),  # several half-periods: the minimum branch runs
    ("CosineAnnealingLR", dict(T_max=30, eta_min=0.005)),
]
CASE_IDS = [f"{name}-" + ",".join(f"{k}={v}" for k, v in kw.items()) for name, kw in CASES]


def make(name: str, kwargs: dict, opt: str = "SGD", dtype=torch.float64, **opt_kwargs):
    """A mininet and a torch optimizer (two groups, LRS) with the named scheduler on each."""
    init = [torch.linspace(-1, 1, 6, dtype=dtype).reshape(2, 3), torch.linspace(0.5, 2, 3, dtype=dtype)]
    mn_params = [Parameter(x.clone()) for x in init]
    t_params = [x.clone().requires_grad_() for x in init]
    mn_cls, t_cls = {"SGD": (SGD, torch.optim.SGD), "Adam": (Adam, torch.optim.Adam)}[opt]
    mn_opt = mn_cls([{"params": [p], "lr": lr} for p, lr in zip(mn_params, LRS)], **opt_kwargs)
    t_opt = t_cls([{"params": [p], "lr": lr} for p, lr in zip(t_params, LRS)], foreach=False, **opt_kwargs)
    mn_sched = getattr(lr_scheduler, name)(mn_opt, **kwargs)
    t_sched = getattr(torch.optim.lr_scheduler, name)(t_opt, **kwargs)
    return (mn_params, mn_opt, mn_sched), (t_params, t_opt, t_sched)


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before:UserWarning")
@pytest.mark.parametrize("name,kwargs", CASES, ids=CASE_IDS)
def test_same_lr_sequence_as_torch(name, kwargs):
    (_, mn_opt, mn), (_, t_opt, ts) = make(name, kwargs)
    assert mn.get_last_lr() == ts.get_last_lr() == LRS  # the constructor's step keeps the initial lr
    assert [g["initial_lr"] for g in mn_opt.param_groups] == LRS
    seen = [mn.get_last_lr()]
    for epoch in range(1, EPOCHS + 1):
        mn.step()
        ts.step()
        assert mn.last_epoch == ts.last_epoch == epoch
        # exact equality: the same Python-float arithmetic in the same order
        assert mn.get_last_lr() == ts.get_last_lr(), f"epoch {epoch}"
        assert [g["lr"] for g in mn_opt.param_groups] == [g["lr"] for g in t_opt.param_groups]
        seen.append(mn.get_last_lr())
    assert len({tuple(s) for s in seen}) > 2  # the schedule really moved


@pytest.mark.parametrize("name,kwargs", CASES, ids=CASE_IDS)
def test_closed_form_matches_formula(name, kwargs):
    """step()'s recursive rates track the documented closed form (loose: they are computed differently)."""
    (_, _, mn), _ = make(name, kwargs)
    for epoch in range(1, EPOCHS + 1):
        mn.step()
        expected = mn._get_closed_form_lr()
        assert mn.get_last_lr() == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("opt,opt_kwargs", [("SGD", dict(momentum=0.9)), ("Adam", dict(amsgrad=True))])
@pytest.mark.parametrize("name,kwargs", CASES[::2], ids=CASE_IDS[::2])
def test_training_with_scheduler_matches_torch(name, kwargs, opt, opt_kwargs):
    """optimizer.step(); scheduler.step() per epoch: float32 parameters stay bit-identical to torch's."""
    (mn_params, mn_opt, mn), (t_params, t_opt, ts) = make(name, kwargs, opt, torch.float32, **opt_kwargs)
    g = torch.Generator().manual_seed(1)
    for epoch in range(EPOCHS):
        for p, tp in zip(mn_params, t_params):
            grad = torch.randn(p.shape, generator=g)
            p.grad, tp.grad = grad.clone(), grad.clone()
        mn_opt.step()
        t_opt.step()
        mn.step()
        ts.step()
        for p, tp in zip(mn_params, t_params):
            assert torch.equal(p.data, tp.detach()), f"epoch {epoch}"


@pytest.mark.parametrize("name,kwargs", CASES, ids=CASE_IDS)
def test_state_dict_resumes_the_schedule(name, kwargs):
    (_, mn_opt, mn), _ = make(name, kwargs)
    for _ in range(6):
        mn.step()
    saved_opt, saved_sched = copy.deepcopy(mn_opt.state_dict()), copy.deepcopy(mn.state_dict())
    assert "optimizer" not in saved_sched and saved_sched["last_epoch"] == 6
    (_, mn_opt2, mn2), _ = make(name, kwargs)
    mn_opt2.load_state_dict(saved_opt)  # the recursive schedulers continue from the groups' lr
    mn2.load_state_dict(saved_sched)
    for _ in range(10):
        mn.step()
        mn2.step()
        assert mn2.get_last_lr() == mn.get_last_lr()
        assert mn2.last_epoch == mn.last_epoch


@pytest.mark.parametrize("name,kwargs", CASES, ids=CASE_IDS)
def test_resume_with_last_epoch_and_step_with_epoch_like_torch(name, kwargs):
    (_, mn_opt, _), (_, t_opt, _) = make(name, kwargs)
    # last_epoch >= 0: needs initial_lr in the groups (set by the first schedulers) and steps once more.
    mn = getattr(lr_scheduler, name)(mn_opt, last_epoch=5, **kwargs)
    ts = getattr(torch.optim.lr_scheduler, name)(t_opt, last_epoch=5, **kwargs)
    assert mn.last_epoch == ts.last_epoch == 6
    assert mn.get_last_lr() == ts.get_last_lr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # step(epoch) is deprecated in both
        for epoch in [7, 9, 2, 11]:
            mn.step(epoch)
            ts.step(epoch)
            assert mn.get_last_lr() == ts.get_last_lr(), f"epoch {epoch}"


def test_resume_without_initial_lr_raises():
    opt = SGD([Parameter(torch.zeros(2))], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)


def test_initial_lr_is_not_overwritten_and_scheduler_needs_an_optimizer():
    opt = SGD([Parameter(torch.zeros(2))], lr=0.1)
    lr_scheduler.ExponentialLR(opt, gamma=0.5).step()
    second = lr_scheduler.StepLR(opt, step_size=1)  # chained: keeps the first scheduler's initial_lr
    assert opt.param_groups[0]["initial_lr"] == 0.1 and second.base_lrs == [0.1]
    assert second.get_last_lr() == [0.05]
    with pytest.raises(TypeError):
        lr_scheduler.StepLR(torch.optim.SGD([torch.zeros(2, requires_grad=True)]), step_size=1)
