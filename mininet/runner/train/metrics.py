"""Per-epoch metrics, computed by the same code on both backends' outputs (whole sets, eval mode)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..registry import REGISTRY, builder
from ..spec.losses import ONE_HOT_LOSSES

METRICS = ("train_loss", "train_acc", "test_loss", "test_acc")


def loss_targets(loss_type: str, y: torch.Tensor, n_classes: int, dtype: torch.dtype) -> torch.Tensor:
    """What the loss is fed: class indices, or their one-hot encoding for regression-style losses."""
    return F.one_hot(y, n_classes).to(dtype) if loss_type in ONE_HOT_LOSSES else y


def _class_weight(loss_spec, like: torch.Tensor) -> torch.Tensor | None:
    w = getattr(loss_spec, "weight", None)
    return None if w is None else torch.tensor(w, dtype=like.dtype, device=like.device)


# Each metric loss takes class-major outputs (R, C, N) and targets ((R, N) class indices, or (R, C, N)
# one-hot) and returns the loss of every sample, (R, N). Class-major, because torch reduces over a
# tiny innermost class dimension (C = 2 here) far slower than over an outer one.
@builder("shared", "metric", "cross_entropy")
def _cross_entropy(s, out, target):
    return F.cross_entropy(out, target, weight=_class_weight(s, out), reduction="none",
                           label_smoothing=s.label_smoothing)


@builder("shared", "metric", "nll")
def _nll(s, out, target):
    return F.nll_loss(out, target, weight=_class_weight(s, out), reduction="none")


@builder("shared", "metric", "mse")
def _mse(s, out, target):
    return F.mse_loss(out, target, reduction="none").mean(-2)


@builder("shared", "metric", "l1")
def _l1(s, out, target):
    return F.l1_loss(out, target, reduction="none").mean(-2)


@builder("shared", "metric", "huber")
def _huber(s, out, target):
    return F.huber_loss(out, target, reduction="none", delta=s.delta).mean(-2)


@builder("shared", "metric", "bce_with_logits")
def _bce_with_logits(s, out, target):
    return F.binary_cross_entropy_with_logits(out, target, reduction="none").mean(-2)


def per_sample_loss(loss_spec, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Loss of every sample, shape (R, N), from outputs (R, N, C) and their loss targets.

    For element-wise losses torch's "mean" divides by every element, so a sample's share is the mean
    over its C outputs; the mean over N then gives each replica's loss.
    """
    class_major = out.transpose(-1, -2).contiguous()
    if target.dim() == out.dim():
        target = target.transpose(-1, -2)
    return REGISTRY.builders[("shared", "metric", loss_spec.type)](loss_spec, class_major, target)


def epoch_metrics(loss_spec, out: torch.Tensor, target: torch.Tensor, y: torch.Tensor,
                  n_train: int) -> torch.Tensor:
    """(R, 4) tensor: train loss, train accuracy (%), test loss, test accuracy (%).

    ``out`` holds the outputs for the training set followed by the test set, shape (R, N, C);
    ``target`` the matching loss targets and ``y`` the class indices (R, N). Losses are means over
    the set as torch's ``reduction="mean"`` would give them (for weighted cross entropy: divided by the
    summed weights). Outputs (R, N, T, C) of a target per time step count every step as a sample.
    """
    if out.dim() > 3:  # (R, N, T, C): N * T samples, the first n_train * T of them training
        n_train *= out.shape[2:-1].numel()
        out, y = out.flatten(1, -2), y.flatten(1)
        target = target.flatten(1, -2) if target.dim() == out.dim() + 1 else target.flatten(1)
    losses = per_sample_loss(loss_spec, out, target)
    # argmax over the innermost dimension: torch's argmax over an outer one is an order of magnitude slower
    correct = (out.argmax(-1) == y).to(out.dtype)
    weight = _class_weight(loss_spec, out)
    if weight is not None:
        w = weight[y]
        tr_loss = losses[:, :n_train].sum(1) / w[:, :n_train].sum(1)
        te_loss = losses[:, n_train:].sum(1) / w[:, n_train:].sum(1)
    else:
        tr_loss, te_loss = losses[:, :n_train].mean(1), losses[:, n_train:].mean(1)
    return torch.stack([tr_loss, 100 * correct[:, :n_train].mean(1), te_loss, 100 * correct[:, n_train:].mean(1)], 1)
