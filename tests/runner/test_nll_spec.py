"""specs/examples/disk_log_softmax_nll.toml is the report's CrossEntropy spec with its loss in two steps
(log_softmax layer + nll): it must train exactly as specs/report/ce_momentum.toml does."""

from __future__ import annotations

import pytest
import torch

from helpers import ROOT, load, shortened
from mininet.runner.train import run_spec


@pytest.mark.parametrize("executor", ["sequential", "vectorized"])
def test_log_softmax_and_nll_train_as_cross_entropy(executor):
    fused, _ = load(ROOT / "specs/report/ce_momentum.toml")
    two_steps, _ = load(ROOT / "specs/examples/disk_log_softmax_nll.toml")
    runs = [run_spec(shortened(spec, epochs=10, repetitions=3), executor=executor) for spec in (fused, two_steps)]
    for a, b in zip(*runs):
        assert (a.backend, a.executor) == (b.backend, b.executor) == (a.backend, executor)
        # same keys: the log_softmax layer has no parameters
        assert [list(s) for s in a.states] == [list(s) for s in b.states]
        if a.backend == "mininet" and executor == "vectorized":
            # replicated, mininet's fused loss takes a faster log-softmax kernel (last-bit differences)
            for sa, sb in zip(a.states, b.states):
                for k in sa:
                    torch.testing.assert_close(sb[k], sa[k])
            continue
        assert all(torch.equal(sa[k], sb[k]) for sa, sb in zip(a.states, b.states) for k in sa), a.backend
        accuracy = [1, 3]
        assert torch.equal(a.metrics[..., accuracy], b.metrics[..., accuracy])
        # the loss metric: cross_entropy of the logits vs nll of the model's log-probabilities
        torch.testing.assert_close(b.metrics, a.metrics)
