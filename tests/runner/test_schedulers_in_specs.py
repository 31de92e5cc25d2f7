"""Schedulers named in a spec step once per epoch on both backends alike; one that watches a metric
(reduce_on_plateau) gets each repetition's own, so its repetitions train one by one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from mininet.runner.spec.load import load_spec
from mininet.runner.train import choose_executor, run_spec

SPEC = Path(__file__).resolve().parents[2] / "specs/report/ce_momentum.toml"
F64 = ['dtype="float64"', "train.epochs=8", "repetitions=2", "data.n_train=200", "data.n_test=200"]


@pytest.mark.parametrize("scheduler", [
    'scheduler={type="multistep", milestones=[2, 5], gamma=0.5}',
    'scheduler={type="one_cycle", max_lr=0.5, total_steps=8}',
    'scheduler={type="linear", start_factor=0.2, total_iters=4}',
    'scheduler={type="reduce_on_plateau", monitor="test_loss", patience=1, factor=0.5, threshold=0.05}',
])
def test_a_spec_scheduler_trains_alike_on_both_backends(scheduler):
    spec, base = load_spec(SPEC, [*F64, scheduler])
    ours, theirs = run_spec(spec, ("mininet", "torch"), "auto", base)
    torch.testing.assert_close(ours.metrics, theirs.metrics, rtol=1e-9, atol=0)
    constant, _ = load_spec(SPEC, F64)
    plain, = run_spec(constant, ("torch",), "auto", base)
    assert not torch.equal(plain.metrics, theirs.metrics)  # the schedule changed the training


def test_a_scheduler_that_watches_a_metric_is_not_vectorized():
    spec, _ = load_spec(SPEC, ['scheduler={type="reduce_on_plateau"}'])
    assert choose_executor(spec, "auto") == "sequential"
    with pytest.raises(ValueError, match="reduce_on_plateau scheduler, which watches each repetition's train_loss"):
        choose_executor(spec, "vectorized")
