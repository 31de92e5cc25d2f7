"""Every scheduler option set of torch's own scheduler tests, run on mininet and on torch side by side.

CASES transcribes the constructor calls of torch's test/optim/test_lrscheduler.py (pytorch/pytorch, read at
commit 01f9ef32eae5ef513002dd44902c23cbe6be3aae; it is not in the wheel), one row per distinct option set,
named after the torch test it comes from. Like torch's tests, the optimizer is SGD with two groups: lr 0.05
and a *tensor* lr 0.5 (torch's setUp), or the lrs a test sets. Each row runs 30 steps (or the epochs /
metrics the torch test feeds) and after every step compares, exactly, every group's lr (type included: a
tensor lr stays a tensor), momentum / betas (the cycling schedulers), ``get_last_lr()`` and ``last_epoch``.
Where torch raises (OneCycleLR past total_steps), mininet must raise the same error at the same step.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Callable

import pytest
import torch

import mininet.optim
from mininet import Parameter
from mininet.optim import lr_scheduler as mn_lrs

STEPS = 30
t_lrs = torch.optim.lr_scheduler


class LambdaObject:
    """torch's LambdaLRTestObject: a callable whose state goes into state_dict."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self, epoch: int) -> float:
        return self.value * epoch


def rop_metric(kind: str) -> Callable[[int], float]:
    """The metric sequences torch's ReduceLROnPlateau tests feed (extended to STEPS by their formula)."""
    return {
        "down0167": lambda i: 10 - i * 0.0167,
        "down0165": lambda i: 10 - i * 0.0165,
        "plateau": lambda i: -0.8 if i < 2 else -0.234,
        "up025": lambda i: 1.5 * (1.025**i),
        "up005": lambda i: 1.5 * (1.005**i),
        "down85": lambda i: 1.5 * (0.85**i),
        "drop": lambda i: 1.0 if i < 7 else (0.6 if i == 7 else 0.5),
        "scores": lambda i: [1.0, 2.0, 3.0, 4.0, 3.0, 4.0, 5.0, 3.0, 2.0, 1.0][i % 10],
    }[kind]


S = Callable[[Any, Any], Any]  # (lr_scheduler module, optimizer) -> scheduler or list of schedulers


def one(name: str, **kw: Any) -> S:
    return lambda lib, opt: getattr(lib, name)(opt, **kw)


def together(*parts: S) -> S:
    """torch's "compound" tests: several schedulers on one optimizer, all stepped each epoch."""
    return lambda lib, opt: [p(lib, opt) for p in parts]


def chained(*parts: S) -> S:
    return lambda lib, opt: lib.ChainedScheduler([p(lib, opt) for p in parts])


def sequential(milestones: list[int], *parts: S) -> S:
    return lambda lib, opt: lib.SequentialLR(opt, schedulers=[p(lib, opt) for p in parts], milestones=milestones)


TORCH_GROUPS = None  # torch's setUp: [lr 0.05, tensor lr 0.5]
HALF = [0.5, 0.5]  # the ReduceLROnPlateau tests set every group's lr to 0.5
EPOCHS_RANGE = list(range(STEPS))

# (torch test, scheduler, options): options may give "lrs" (group lrs), "opt" ("SGD" / "Adam"),
# "metric" (ReduceLROnPlateau), "epochs" (step(epoch) with these epochs, torch's _test_with_epoch & co.).
CASES: list[tuple[str, S, dict[str, Any]]] = [
    ("test_step_lr", one("StepLR", gamma=0.1, step_size=3), {}),
    ("test_step_lr_is_constant_for_constant_epoch", one("StepLR", step_size=2), {"epochs": [2] * 10}),
    ("test_get_last_lr_step_lr", one("StepLR", step_size=3, gamma=0.1), {"lrs": [0.1]}),
    ("test_step_lr_state_dict", one("StepLR", gamma=0.01 / 2, step_size=1), {}),
    ("test_lr_scheduler_state_dict_load", one("StepLR", step_size=30), {}),
    ("test_closed_form_step_lr", one("StepLR", gamma=0.1, step_size=3), {"epochs": EPOCHS_RANGE}),
    ("test_multi_step_lr", one("MultiStepLR", gamma=0.1, milestones=[2, 5, 9]), {}),
    ("test_multi_step_lr_with_epoch", one("MultiStepLR", gamma=0.1, milestones=[2, 5, 9]), {"epochs": EPOCHS_RANGE}),
    ("test_multi_step_lr_state_dict", one("MultiStepLR", gamma=0.01, milestones=[1, 4, 6]), {}),
    ("test_lr_scheduler_state_dict_load", one("MultiStepLR", milestones=[30, 80]), {}),
    ("test_constantlr", one("ConstantLR", factor=1.0 / 2, total_iters=5), {}),
    ("test_constantlr_with_epoch", one("ConstantLR", factor=1.0 / 2, total_iters=5), {"epochs": EPOCHS_RANGE}),
    ("test_closed_form_constantlr", one("ConstantLR", factor=1.0 / 3, total_iters=4), {"epochs": EPOCHS_RANGE}),
    ("test_closed_form_constantlr", one("ConstantLR", factor=1.0 / 3, total_iters=4), {}),
    ("test_constantlr_is_constant_for_constant_epoch", one("ConstantLR"), {"epochs": [2] * 10}),
    ("test_constant_initial_lr", one("ConstantLR"), {}),
    ("test_get_last_lr_linearlr", one("LinearLR", start_factor=1.0 / 4, end_factor=3.0 / 5, total_iters=4), {}),
    ("test_linearlr", one("LinearLR", start_factor=1.0 / 2, total_iters=4), {}),
    ("test_linearlr_with_epoch", one("LinearLR", start_factor=1.0 / 2, total_iters=4), {"epochs": EPOCHS_RANGE}),
    ("test_closed_form_linearlr", one("LinearLR", start_factor=1.0 / 3, end_factor=0.7, total_iters=4), {}),
    ("test_closed_form_linearlr", one("LinearLR", start_factor=1.0 / 3, end_factor=0.7, total_iters=4),
     {"epochs": EPOCHS_RANGE}),
    ("test_linear_linearlr_is_constant_for_constant_epoch", one("LinearLR"), {"epochs": [2] * 10}),
    ("test_constant_initial_lr", one("LinearLR"), {}),
    ("test_exp_lr", one("ExponentialLR", gamma=0.9), {}),
    ("test_closed_form_exp_lr", one("ExponentialLR", gamma=0.9), {"epochs": EPOCHS_RANGE}),
    ("test_exp_step_lr_state_dict", one("ExponentialLR", gamma=0.1), {}),
    ("test_exp_step_lr_state_dict", one("ExponentialLR", gamma=0.01), {}),
    ("test_lr_scheduler_checkpoint", one("ExponentialLR", gamma=0.999), {}),
    ("test_poly_lr", one("PolynomialLR", power=0.9, total_iters=5), {}),
    ("test_closed_form_poly_lr", one("PolynomialLR", power=0.9), {"epochs": EPOCHS_RANGE}),
    ("test_polynomial_lr_is_constant_for_constant_epoch", one("PolynomialLR", power=0.9), {"epochs": [2] * 10}),
    ("test_constant_initial_lr", one("PolynomialLR"), {}),
    ("test_cos_anneal_lr", one("CosineAnnealingLR", T_max=10, eta_min=1e-10), {}),
    ("test_closed_form_cos_anneal_lr", one("CosineAnnealingLR", T_max=5, eta_min=1e-10), {}),
    ("test_closed_form_cos_anneal_lr", one("CosineAnnealingLR", T_max=5, eta_min=1e-10), {"epochs": EPOCHS_RANGE}),
    ("test_cos_anneal_lr_continue", one("CosineAnnealingLR", T_max=5, eta_min=0.1), {}),
    ("test_cosine_lr_state_dict", one("CosineAnnealingLR", T_max=5, eta_min=1e-10 / 2), {}),
    ("test_constant_initial_lr", one("CosineAnnealingLR", T_max=10), {}),
    ("test_lambda_lr", one("LambdaLR", lr_lambda=[lambda x1: 0.9**x1, lambda x2: 0.8**x2]), {"lrs": [0.05, 0.4]}),
    ("test_lr_scheduler_state_dict_load", one("LambdaLR", lr_lambda=lambda e: e // 10), {}),
    ("test_lambda_lr_state_dict_fn", one("LambdaLR", lr_lambda=lambda x: x), {}),
    ("test_lambda_lr_state_dict_obj", one("LambdaLR", lr_lambda=LambdaObject(10)), {}),
    ("test_lr_scheduler_checkpoint", one("LambdaLR", lr_lambda=lambda epoch: epoch // 30), {}),
    ("test_multiplicative_lr", one("MultiplicativeLR", lr_lambda=[lambda x1: 0.9, lambda x2: 0.8]),
     {"lrs": [0.05, 0.4]}),
    ("test_constant_initial_lr", one("MultiplicativeLR", lr_lambda=lambda e: 0.95), {}),
    ("test_sequentiallr1", sequential([3], one("ExponentialLR", gamma=0.8), one("StepLR", gamma=0.1, step_size=4)),
     {}),
    ("test_sequentiallr2", sequential([3], one("ConstantLR", factor=0.1, total_iters=3),
                                      one("ExponentialLR", gamma=0.9)), {}),
    ("test_sequentiallr3", sequential([3, 6], one("ConstantLR", factor=0.1, total_iters=3),
                                      one("ExponentialLR", gamma=0.8), one("StepLR", gamma=0.1, step_size=2)), {}),
    ("test_sequentiallr4", sequential([10], one("ConstantLR", factor=1), one("ConstantLR", factor=0.1)),
     {"lrs": [0.1]}),
    ("test_sequentiallr5", sequential([5], chained(one("LinearLR", start_factor=0.1, total_iters=5),
                                                   one("ConstantLR", factor=0.1, total_iters=5)),
                                      one("ConstantLR", factor=0.5, total_iters=5)), {}),
    ("test_sequentiallr_no_warnings", sequential([5], one("LinearLR", start_factor=0.5, end_factor=0.1, total_iters=5),
                                                 one("ExponentialLR", gamma=0.9)), {}),
    ("test_sequentiallr_does_not_alias_lr_and_initial_lr",
     sequential([4], one("LinearLR", start_factor=0.1, end_factor=0.8, total_iters=4),
                one("LinearLR", start_factor=0.8, end_factor=0.1, total_iters=4)), {"lrs": [torch.tensor(2.0)]}),
    ("test_lr_scheduler_state_dict_load", sequential([2], one("ConstantLR"), one("ConstantLR")), {}),
    ("test_chained_lr1", chained(one("StepLR", gamma=0.1, step_size=3)), {}),
    ("test_chained_lr2", chained(one("LinearLR", start_factor=0.4, total_iters=3)), {}),
    ("test_chained_lr3", chained(one("LinearLR", start_factor=0.4, total_iters=3),
                                 one("MultiStepLR", milestones=[4, 8, 10], gamma=0.1)), {}),
    ("test_chained_lr4", chained(one("ExponentialLR", gamma=0.9), one("ConstantLR", factor=0.2, total_iters=4),
                                 one("StepLR", gamma=0.1, step_size=3)), {}),
    ("test_chained_lr5", chained(one("PolynomialLR", power=0.9, total_iters=5), one("ConstantLR", factor=0.1)), {}),
    ("test_lr_scheduler_state_dict_load", chained(one("ConstantLR"), one("ConstantLR")), {}),
    ("test_compound_step_and_multistep_lr", together(one("StepLR", gamma=0.1, step_size=3),
                                                     one("MultiStepLR", gamma=0.1, milestones=[2, 5, 9])), {}),
    ("test_compound_step_and_exp_lr", together(one("StepLR", gamma=0.1, step_size=3),
                                               one("ExponentialLR", gamma=0.9)), {}),
    ("test_compound_exp_and_multistep_lr", together(one("MultiStepLR", gamma=0.1, milestones=[2, 5, 9]),
                                                    one("ExponentialLR", gamma=0.9)), {}),
    ("test_compound_exp_and_linearlr", together(one("LinearLR", start_factor=0.4, end_factor=0.9, total_iters=4),
                                                one("ExponentialLR", gamma=0.9)), {}),
    ("test_compound_step_and_constantlr", together(one("StepLR", gamma=0.1, step_size=3),
                                                   one("ConstantLR", factor=0.4, total_iters=4)), {}),
    ("test_compound_linearlr_and_multistep_lr", together(one("MultiStepLR", gamma=0.1, milestones=[2, 5, 9]),
                                                         one("LinearLR", start_factor=0.4, total_iters=4)), {}),
    ("test_compound_cosanneal_and_step_lr", together(one("CosineAnnealingLR", T_max=10, eta_min=1e-10),
                                                     one("StepLR", gamma=0.1, step_size=3)), {}),
    ("test_compound_cosanneal_and_multistep_lr", together(one("CosineAnnealingLR", T_max=10, eta_min=1e-10),
                                                          one("MultiStepLR", gamma=0.1, milestones=[2, 5, 9])), {}),
    ("test_compound_cosanneal_and_linearlr", together(one("LinearLR", start_factor=0.4, total_iters=4),
                                                      one("CosineAnnealingLR", T_max=10, eta_min=1e-10)), {}),
    ("test_compound_cosanneal_and_exp_lr", together(one("CosineAnnealingLR", T_max=10, eta_min=1e-10),
                                                    one("ExponentialLR", gamma=0.1)), {}),
    ("test_reduce_lr_on_plateau1", one("ReduceLROnPlateau", threshold_mode="abs", mode="min", threshold=0.01,
                                       patience=5, cooldown=5), {"lrs": HALF, "metric": "down0167"}),
    ("test_reduce_lr_on_plateau2", one("ReduceLROnPlateau", patience=5, cooldown=0, threshold_mode="abs",
                                       mode="min", threshold=0.1), {"lrs": HALF, "metric": "down0165"}),
    ("test_reduce_lr_on_plateau3", one("ReduceLROnPlateau", mode="max", patience=5, cooldown=5,
                                       threshold_mode="abs"), {"lrs": HALF, "metric": "plateau"}),
    ("test_reduce_lr_on_plateau4", one("ReduceLROnPlateau", mode="max", patience=3, threshold_mode="rel",
                                       threshold=0.1), {"lrs": HALF, "metric": "up025"}),
    ("test_reduce_lr_on_plateau5", one("ReduceLROnPlateau", mode="max", threshold_mode="rel", threshold=0.1,
                                       patience=5, cooldown=5), {"lrs": HALF, "metric": "up005"}),
    ("test_reduce_lr_on_plateau6", one("ReduceLROnPlateau", mode="min", threshold_mode="rel", threshold=0.1),
     {"lrs": HALF, "metric": "down85"}),
    ("test_reduce_lr_on_plateau7", one("ReduceLROnPlateau", mode="min", threshold_mode="rel", threshold=0.1,
                                       patience=5, cooldown=5), {"lrs": HALF, "metric": "drop"}),
    ("test_reduce_lr_on_plateau8", one("ReduceLROnPlateau", mode="max", threshold_mode="rel", min_lr=[0.4, 0.3],
                                       threshold=0.1, patience=5, cooldown=5), {"lrs": HALF, "metric": "up005"}),
    ("test_reduce_lr_on_plateau_state_dict", one("ReduceLROnPlateau", mode="min", factor=0.1, patience=2),
     {"metric": "scores"}),
    ("test_reduce_lr_on_plateau_state_dict", one("ReduceLROnPlateau", mode="max", factor=0.5, patience=10),
     {"metric": "up005"}),
    ("test_reduce_lr_on_plateau_preserves_lr_type", one("ReduceLROnPlateau", mode="min", patience=0),
     {"metric": "scores"}),  # torch's setUp groups: the tensor lr must stay a tensor
    ("test_add_param_group_does_not_break_reduce_lr_on_plateau",
     one("ReduceLROnPlateau", mode="min", threshold_mode="rel", threshold=0.1, patience=5, cooldown=5,
         min_lr=[1e-5, 1e-4]), {"lrs": HALF, "metric": "drop"}),
    ("test_lr_scheduler_state_dict_load", one("ReduceLROnPlateau"), {"metric": "down85"}),
    ("test_compound_reduce_lr_on_plateau1",
     together(one("ReduceLROnPlateau", threshold_mode="abs", mode="min", threshold=0.01, patience=5, cooldown=5),
              one("StepLR", gamma=0.1, step_size=3)), {"lrs": HALF, "metric": "down0167"}),
    ("test_compound_reduce_lr_on_plateau2",
     together(one("ReduceLROnPlateau", patience=5, cooldown=0, threshold_mode="abs", mode="min", threshold=0.1),
              one("MultiStepLR", gamma=0.1, milestones=[3, 8, 12])), {"lrs": HALF, "metric": "down0165"}),
    ("test_compound_reduce_lr_on_plateau3",
     together(one("ReduceLROnPlateau", mode="max", patience=5, cooldown=5, threshold_mode="abs"),
              one("ExponentialLR", gamma=0.1)), {"lrs": HALF, "metric": "plateau"}),
    ("test_compound_reduce_lr_on_plateau4",
     together(one("ReduceLROnPlateau", mode="max", patience=3, threshold_mode="rel", threshold=0.1),
              one("CosineAnnealingLR", T_max=10, eta_min=1e-10)), {"lrs": [0.05, 0.05], "metric": "up025"}),
    ("test_compound_reduce_lr_on_plateau5",
     together(one("ReduceLROnPlateau", patience=5, cooldown=0, threshold_mode="abs", mode="min", threshold=0.1),
              one("LinearLR", start_factor=0.4, total_iters=4)), {"lrs": HALF, "metric": "down0165"}),
    ("test_cycle_lr_triangular_mode_one_lr", one("CyclicLR", base_lr=1, max_lr=5, step_size_up=4, cycle_momentum=True,
                                                 base_momentum=1, max_momentum=5, mode="triangular"), {}),
    ("test_cycle_lr_triangular_mode_one_lr_no_momentum", one("CyclicLR", base_lr=1, max_lr=5, step_size_up=4,
                                                             cycle_momentum=False, mode="triangular"), {}),
    ("test_cycle_lr_triangular2_mode_one_lr", one("CyclicLR", base_lr=1, max_lr=5, step_size_up=4,
                                                  cycle_momentum=True, base_momentum=1, max_momentum=5,
                                                  mode="triangular2"), {}),
    ("test_cycle_lr_exp_range_mode_one_lr", one("CyclicLR", base_lr=1, max_lr=5, step_size_up=4, cycle_momentum=True,
                                                base_momentum=1, max_momentum=5, mode="exp_range", gamma=0.9), {}),
    ("test_cycle_lr_triangular_mode", one("CyclicLR", base_lr=[1, 2], max_lr=[5, 6], step_size_up=4,
                                          cycle_momentum=True, base_momentum=[1, 2], max_momentum=[5, 6],
                                          mode="triangular"), {}),
    ("test_cycle_lr_triangular2_mode", one("CyclicLR", base_lr=[1, 3], max_lr=[5, 7], step_size_up=4,
                                           cycle_momentum=True, base_momentum=[1, 3], max_momentum=[5, 7],
                                           mode="triangular2"), {}),
    ("test_cycle_lr_exp_range_mode", one("CyclicLR", base_lr=[1, 5], max_lr=[5, 12], step_size_up=4,
                                         cycle_momentum=True, base_momentum=[1, 5], max_momentum=[5, 12],
                                         mode="exp_range", gamma=0.9), {}),
    ("test_cycle_lr_triangular_mode_step_size_up_down", one("CyclicLR", base_lr=1, max_lr=5, step_size_up=4,
                                                            step_size_down=6, cycle_momentum=True, base_momentum=1,
                                                            max_momentum=5, mode="triangular"), {}),
    ("test_cycle_lr_triangular2_mode_step_size_up_down", one("CyclicLR", base_lr=[1, 3], max_lr=[5, 7],
                                                             step_size_up=2, step_size_down=6, cycle_momentum=True,
                                                             base_momentum=[1, 3], max_momentum=[5, 7],
                                                             mode="triangular2"), {}),
    ("test_cycle_lr_exp_range_mode_step_size_up_down", one("CyclicLR", base_lr=1, max_lr=5, step_size_up=2,
                                                           step_size_down=6, cycle_momentum=True, base_momentum=1,
                                                           max_momentum=5, mode="exp_range", gamma=0.9), {}),
    ("test_cycle_lr_with_momentumless_optimizer", one("CyclicLR", base_lr=1, max_lr=5, step_size_up=4,
                                                      cycle_momentum=False, mode="triangular"),
     {"opt": "Adam", "lrs": [0.05, 0.5]}),
    ("test_cycle_lr_cycle_momentum_with_beta1_optimizer", one("CyclicLR", base_lr=1, max_lr=5, cycle_momentum=True),
     {"opt": "Adam", "lrs": [0.001]}),
    ("test_cycle_lr_state_dict_picklable", one("CyclicLR", base_lr=1, max_lr=5, cycle_momentum=False,
                                               scale_fn=lambda _: 0.5), {"opt": "Adam", "lrs": [0.001]}),
    ("test_cycle_lr_scale_fn_restored_from_state_dict", one("CyclicLR", base_lr=1, max_lr=5, cycle_momentum=False,
                                                            mode="triangular2"), {"opt": "Adam", "lrs": [0.001]}),
    ("test_lr_scheduler_state_dict_load", one("CyclicLR", base_lr=0.01, max_lr=0.1), {}),
    ("test_cosine_then_cyclic", one("CyclicLR", base_lr=0.1, max_lr=0.3, step_size_up=1, step_size_down=3),
     {"lrs": [0.5]}),
    ("test_onecycle_lr_linear_annealing", one("OneCycleLR", max_lr=25, final_div_factor=2, base_momentum=1,
                                              max_momentum=22, total_steps=10, anneal_strategy="linear"), {}),
    ("test_onecycle_lr_linear_annealing_three_phases", one("OneCycleLR", max_lr=25, div_factor=25, base_momentum=1,
                                                           max_momentum=22, total_steps=10, anneal_strategy="linear",
                                                           pct_start=0.4, final_div_factor=4, three_phase=True), {}),
    ("test_onecycle_lr_cosine_annealing", one("OneCycleLR", max_lr=25, final_div_factor=2, base_momentum=1,
                                              max_momentum=22, total_steps=10), {}),
    ("test_cycle_lr_with_adam", one("OneCycleLR", max_lr=25, final_div_factor=2, base_momentum=1, max_momentum=22,
                                    total_steps=10, anneal_strategy="linear"), {"opt": "Adam", "lrs": [0.05, 0.5]}),
    ("test_lr_scheduler_state_dict_load", one("OneCycleLR", max_lr=0.01, total_steps=10, anneal_strategy="linear"),
     {}),
    ("test_lr_scheduler_checkpoint", one("OneCycleLR", max_lr=0.01, total_steps=10), {"opt": "Adam", "lrs": [1e-3]}),
    ("test_CosineAnnealingWarmRestarts_lr1", one("CosineAnnealingWarmRestarts", T_0=10, T_mult=1, eta_min=1e-10), {}),
    ("test_CosineAnnealingWarmRestarts_lr1", one("CosineAnnealingWarmRestarts", T_0=10, T_mult=2, eta_min=1e-10), {}),
    ("test_CosineAnnealingWarmRestarts_lr1", one("CosineAnnealingWarmRestarts", T_0=10, T_mult=4, eta_min=1e-10), {}),
    ("test_CosineAnnealingWarmRestarts_lr2", one("CosineAnnealingWarmRestarts", T_0=10, T_mult=2, eta_min=1e-10),
     {"epochs": [round(e.item(), 1) for e in torch.arange(0, 3, 0.1)]}),
    ("test_CosineAnnealingWarmRestarts_lr3", one("CosineAnnealingWarmRestarts", T_0=10, T_mult=1, eta_min=1e-10),
     {"epochs": [0, 1, 2, 3, 4, 5, 12, 27, 3, 4, 5, 6, 13]}),
    ("test_CosineAnnealingWarmRestarts_lr3", one("CosineAnnealingWarmRestarts", T_0=10, T_mult=2, eta_min=1e-10),
     {"epochs": [0, 1, 2, 3, 4, 5, 25, 32, 33, 34, 80, 81, 3]}),
    ("test_CosineAnnealingWarmRestarts_lr3", one("CosineAnnealingWarmRestarts", T_0=10, T_mult=3, eta_min=1e-10),
     {"epochs": [0, 0.1, 0.2, 0.3, 1.3, 2.3, 17.5, 18.5, 19.5, 29.5, 30.5, 31.5, 50]}),
    ("test_CosineAnnealingWarmRestarts_lr_state_dict", one("CosineAnnealingWarmRestarts", T_0=10, T_mult=2), {}),
    ("test_CosineAnnealingWarmRestarts_lr_state_dict", one("CosineAnnealingWarmRestarts", T_0=100), {}),
    ("test_CosineAnnealingWarmRestarts_T_cur_reset", one("CosineAnnealingWarmRestarts", T_0=4), {}),
    ("test_constant_initial_lr", one("CosineAnnealingWarmRestarts", T_0=20), {}),
]
CASE_IDS = [f"{i:03d}-{name}" for i, (name, _, _) in enumerate(CASES)]


def _optimizers(opts: dict[str, Any]):
    """The torch and the mininet optimizer of torch's setUp (or the lrs / optimizer a test uses)."""
    lrs = opts.get("lrs")
    cls = opts.get("opt", "SGD")
    init = [torch.linspace(-1, 1, 4, dtype=torch.float64).reshape(2, 2), torch.ones(3, dtype=torch.float64)]

    def build(lib, params):
        if lrs is None:  # torch's setUp: default lr 0.05 for group 0, a tensor lr for group 1
            groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": torch.tensor(0.5)}]
        else:
            groups = [{"params": [p], "lr": copy.deepcopy(lr)} for p, lr in zip(params, lrs)]
        return getattr(lib, cls)(groups, lr=0.05)
    t_opt = build(torch.optim, [x.clone().requires_grad_() for x in init])
    mn_opt = build(mininet.optim, [Parameter(x.clone()) for x in init])
    return t_opt, mn_opt


def _as_list(s) -> list:
    return s if isinstance(s, list) else [s]


def _same(a, b, what: str) -> None:
    if isinstance(b, torch.Tensor):
        assert isinstance(a, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b), f"{what}: {a!r} != {b!r}"
    elif isinstance(b, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), f"{what}: {a!r} != {b!r}"
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{what}[{i}]")
    else:
        assert type(a) is type(b) and a == b, f"{what}: {a!r} ({type(a).__name__}) != torch's {b!r} ({type(b).__name__})"


def _compare(t_opt, mn_opt, t_scheds, mn_scheds, step) -> None:
    for k, (tg, mg) in enumerate(zip(t_opt.param_groups, mn_opt.param_groups, strict=True)):
        for key in ("lr", "initial_lr", "momentum", "betas", "max_lr", "min_lr", "max_momentum", "base_momentum"):
            assert (key in tg) == (key in mg), f"step {step}, group {k}: {key!r} in only one of them"
            if key in tg:
                _same(mg[key], tg[key], f"step {step}, group {k}, {key}")
    for ts, ms in zip(t_scheds, mn_scheds, strict=True):
        _same(ms.get_last_lr(), ts.get_last_lr(), f"step {step}, {type(ts).__name__}.get_last_lr()")
        if hasattr(ts, "last_epoch"):
            _same(ms.last_epoch, ts.last_epoch, f"step {step}, {type(ts).__name__}.last_epoch")


def _step_all(scheds, opts, i) -> None:
    for s in scheds:
        if isinstance(s, (t_lrs.ReduceLROnPlateau, mn_lrs.ReduceLROnPlateau)):
            s.step(rop_metric(opts["metric"])(i))
        elif "epochs" in opts:
            s.step(opts["epochs"][i])
        else:
            s.step()


def _run(make: S, opts: dict[str, Any], steps: int | None = None):
    t_opt, mn_opt = _optimizers(opts)
    t_scheds, mn_scheds = _as_list(make(t_lrs, t_opt)), _as_list(make(mn_lrs, mn_opt))
    _compare(t_opt, mn_opt, t_scheds, mn_scheds, 0)
    n = len(opts["epochs"]) if "epochs" in opts else STEPS if steps is None else steps
    for i in range(n):
        try:
            _step_all(t_scheds, opts, i)
        except Exception as err:  # torch refuses this step (OneCycleLR past total_steps): so must mininet
            with pytest.raises(type(err), match=str(err)[:40]):
                _step_all(mn_scheds, opts, i)
            return t_opt, mn_opt, t_scheds, mn_scheds
        _step_all(mn_scheds, opts, i)
        _compare(t_opt, mn_opt, t_scheds, mn_scheds, i + 1)
    return t_opt, mn_opt, t_scheds, mn_scheds


@pytest.mark.filterwarnings("ignore::UserWarning")  # step(epoch)'s deprecation, torch's step-order warning
@pytest.mark.parametrize("name,make,opts", CASES, ids=CASE_IDS)
def test_sequence_equals_torchs(name, make, opts):
    _run(make, opts)


def _state_keys(sched) -> set[str]:
    return set(sched.state_dict())


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name,make,opts", [c for c in CASES if "epochs" not in c[2]],
                         ids=[i for i, c in zip(CASE_IDS, CASES) if "epochs" not in c[2]])
def test_state_dict_round_trip(name, make, opts):
    """After 7 steps, the optimizer's and the scheduler's state_dicts (deep-copied, as saving would) restore
    a freshly built pair that then continues exactly as the original; the state_dict has torch's keys."""
    t_opt, mn_opt, t_scheds, mn_scheds = _run(make, opts, steps=7)
    saved = [copy.deepcopy(s.state_dict()) for s in mn_scheds]
    saved_opt = copy.deepcopy(mn_opt.state_dict())
    for ts, ms in zip(t_scheds, mn_scheds):
        assert _state_keys(ms) == _state_keys(ts) - {"_get_lr_called_within_step"}
    _, mn_opt2 = _optimizers(opts)
    fresh = _as_list(make(mn_lrs, mn_opt2))
    mn_opt2.load_state_dict(saved_opt)
    for s, state in zip(fresh, saved):
        s.load_state_dict(state)
    limit = 10 if not any(isinstance(s, mn_lrs.OneCycleLR) for s in fresh) else 3  # total_steps=10 in torch's
    for i in range(7, 7 + limit):
        _step_all(mn_scheds, opts, i)
        _step_all(fresh, opts, i)
        for a, b in zip(mn_scheds, fresh):
            _same(b.get_last_lr(), a.get_last_lr(), f"step {i}, resumed get_last_lr()")
        for g, g2 in zip(mn_opt.param_groups, mn_opt2.param_groups):
            _same(g2["lr"], g["lr"], f"step {i}, resumed group lr")


@pytest.mark.parametrize("last_epoch", [0, 3])
def test_resumed_cosine_annealing_starts_from_the_closed_form_like_torch(last_epoch):
    """torch's test_cos_anneal_lr_continue / test_lr_scheduler_checkpoint: a scheduler built with last_epoch >= 0
    on groups that have initial_lr."""
    t_opt, mn_opt = _optimizers({"lrs": [0.05, 0.5]})
    for opt in (t_opt, mn_opt):
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"] * 2
    ts = t_lrs.CosineAnnealingLR(t_opt, T_max=5, eta_min=0.1, last_epoch=last_epoch)
    ms = mn_lrs.CosineAnnealingLR(mn_opt, T_max=5, eta_min=0.1, last_epoch=last_epoch)
    for step in range(12):
        _compare(t_opt, mn_opt, [ts], [ms], step)
        ts.step()
        ms.step()


def test_exports_are_torchs():
    """Every scheduler torch exports (SWALR lives in swa_utils and is not one of them) is exported here."""
    expected = set(t_lrs.__all__)
    assert expected <= set(mn_lrs.__all__) and all(hasattr(mn_lrs, n) for n in mn_lrs.__all__)
    assert set(mn_lrs.__all__) - expected == set()


def test_errors_like_torchs():
    t_opt, mn_opt = _optimizers({})
    bad = [("LinearLR", dict(start_factor=0.0)), ("LinearLR", dict(start_factor=1.1)),
           ("ConstantLR", dict(factor=1.5)), ("CyclicLR", dict(base_lr=0, max_lr=0, mode="CATS")),
           ("OneCycleLR", dict(max_lr=1e-3, total_steps=10, anneal_strategy="CATS")),
           ("OneCycleLR", dict(max_lr=1e-3, total_steps=10, pct_start=1.1)), ("OneCycleLR", dict(max_lr=1e-3)),
           ("MultiplicativeLR", dict(lr_lambda=0.95)), ("ReduceLROnPlateau", dict(factor=1.0)),
           ("CosineAnnealingWarmRestarts", dict(T_0=0)), ("CosineAnnealingWarmRestarts", dict(T_0=2, T_mult=0))]
    for name, kw in bad:
        with pytest.raises((ValueError, TypeError)) as t_err:
            getattr(t_lrs, name)(t_opt, **kw)
        with pytest.raises(t_err.type, match=str(t_err.value)[:30].replace("(", r"\(").replace(")", r"\)")):
            getattr(mn_lrs, name)(mn_opt, **kw)
    rprop_like = mininet.optim.RMSprop([Parameter(torch.zeros(2))])  # has momentum: accepted, as torch's
    mn_lrs.CyclicLR(rprop_like, base_lr=1, max_lr=5)
    adagrad = mininet.optim.Adagrad([Parameter(torch.zeros(2))])  # neither momentum nor betas
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        mn_lrs.CyclicLR(adagrad, base_lr=1, max_lr=5, cycle_momentum=True)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        t_lrs.CyclicLR(torch.optim.Adagrad([torch.zeros(2, requires_grad=True)]), base_lr=1, max_lr=5)
