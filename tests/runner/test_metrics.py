"""The shared metrics equal torch.nn's own mean losses and a plain accuracy, replica by replica."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mininet.runner.train.metrics import epoch_metrics, loss_targets
from mininet.runner.spec import BCEWithLogitsSpec, CrossEntropySpec, HuberSpec, L1Spec, MSESpec, NLLSpec

R, N_TRAIN, N_TEST, C = 3, 40, 25, 4

CASES = [
    (CrossEntropySpec(), nn.CrossEntropyLoss()),
    (CrossEntropySpec(weight=[1.0, 2.0, 0.5, 3.0], label_smoothing=0.1),
     nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64), label_smoothing=0.1)),
    (NLLSpec(), nn.NLLLoss()),
    (NLLSpec(weight=[1.0, 2.0, 0.5, 3.0]), nn.NLLLoss(weight=torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64))),
    (MSESpec(), nn.MSELoss()),
    (L1Spec(), nn.L1Loss()),
    (HuberSpec(delta=0.5), nn.HuberLoss(delta=0.5)),
    (BCEWithLogitsSpec(), nn.BCEWithLogitsLoss()),
]


@pytest.mark.parametrize("spec, reference", CASES, ids=lambda c: type(c).__name__)
def test_epoch_metrics_match_torch_losses(spec, reference):
    g = torch.Generator().manual_seed(0)
    out = torch.randn(R, N_TRAIN + N_TEST, C, generator=g, dtype=torch.float64)
    y = torch.randint(0, C, (R, N_TRAIN + N_TEST), generator=g)
    target = loss_targets(spec.type, y, C, torch.float64)
    got = epoch_metrics(spec, out, target, y, N_TRAIN)
    for r in range(R):
        for col, part in ((0, slice(0, N_TRAIN)), (2, slice(N_TRAIN, None))):
            expected = reference(out[r, part], target[r, part])
            torch.testing.assert_close(got[r, col], expected, rtol=1e-12, atol=1e-12)
            accuracy = 100 * (out[r, part].argmax(-1) == y[r, part]).double().mean()
            assert got[r, col + 1].item() == pytest.approx(accuracy.item(), abs=1e-12)


def test_accuracy_breaks_ties_like_argmax():
    """Tied outputs (a saturated or untrained network) count as the first largest class, as argmax does."""
    g = torch.Generator().manual_seed(1)
    out = torch.randint(0, 2, (R, N_TRAIN + N_TEST, C), generator=g).double()  # many ties
    y = torch.randint(0, C, (R, N_TRAIN + N_TEST), generator=g)
    got = epoch_metrics(CrossEntropySpec(), out, y, y, N_TRAIN)
    correct = (out.argmax(-1) == y).double()
    torch.testing.assert_close(got[:, 1], 100 * correct[:, :N_TRAIN].mean(1), rtol=0, atol=1e-12)
    torch.testing.assert_close(got[:, 3], 100 * correct[:, N_TRAIN:].mean(1), rtol=0, atol=1e-12)
