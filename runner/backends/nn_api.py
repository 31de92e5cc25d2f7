"""Spec -> component builders, written once against torch.nn's and torch.optim's API.

mininet's modules, losses, optimizers and schedulers take torch's class names and arguments, so one
builder serves both backends: each backend registers this table with its own namespaces
(``mininet`` / ``torch.nn``, ``mininet.optim`` / ``torch.optim``, ...). A backend that builds some
component differently registers its own builder for it with :func:`runner.registry.builder` instead.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

import torch

from ..registry import REGISTRY


@dataclass(frozen=True)
class Api:
    """Where a backend's classes live: layers and losses, optimizers, learning-rate schedulers."""

    nn: ModuleType
    optim: ModuleType
    lr_scheduler: ModuleType


#: (kind, type) -> fn(api, spec, ...): the builders every torch-compatible backend shares
_BUILDERS: dict[tuple[str, str], Callable[..., Any]] = {}


def _shared(kind: str, tag: str) -> Callable[[Callable], Callable]:
    def wrap(fn: Callable) -> Callable:
        _BUILDERS[(kind, tag)] = fn
        return fn

    return wrap


def register(backend: str, api: Api) -> None:
    """Register every builder of this module as ``backend``'s, bound to ``api``."""
    for (kind, tag), fn in _BUILDERS.items():
        REGISTRY.add_builder(backend, kind, tag, functools.partial(fn, api))


# --------------------------------------------------------------------------- layers
@_shared("container", "sequential")
def sequential(api: Api, layers: list[Any]):
    return api.nn.Sequential(*layers)


@_shared("layer", "linear")
def linear(api: Api, s, dtype, device):
    return api.nn.Linear(s.in_features, s.out_features, bias=s.bias, dtype=dtype, device=device)


@_shared("layer", "conv2d")
def conv2d(api: Api, s, dtype, device):
    return api.nn.Conv2d(s.in_channels, s.out_channels, s.kernel_size, stride=s.stride, padding=s.padding,
                         dilation=s.dilation, groups=s.groups, bias=s.bias, dtype=dtype, device=device)


@_shared("layer", "max_pool2d")
def max_pool2d(api: Api, s, dtype, device):
    return api.nn.MaxPool2d(s.kernel_size, stride=s.stride, padding=s.padding, ceil_mode=s.ceil_mode)


@_shared("layer", "avg_pool2d")
def avg_pool2d(api: Api, s, dtype, device):
    return api.nn.AvgPool2d(s.kernel_size, stride=s.stride, padding=s.padding, ceil_mode=s.ceil_mode,
                            count_include_pad=s.count_include_pad)


@_shared("layer", "flatten")
def flatten(api: Api, s, dtype, device):
    return api.nn.Flatten()


@_shared("layer", "relu")
def relu(api: Api, s, dtype, device):
    return api.nn.ReLU()


@_shared("layer", "leaky_relu")
def leaky_relu(api: Api, s, dtype, device):
    return api.nn.LeakyReLU(s.negative_slope)


@_shared("layer", "tanh")
def tanh(api: Api, s, dtype, device):
    return api.nn.Tanh()


@_shared("layer", "sigmoid")
def sigmoid(api: Api, s, dtype, device):
    return api.nn.Sigmoid()


@_shared("layer", "elu")
def elu(api: Api, s, dtype, device):
    return api.nn.ELU(s.alpha)


@_shared("layer", "gelu")
def gelu(api: Api, s, dtype, device):
    return api.nn.GELU(approximate=s.approximate)


@_shared("layer", "softplus")
def softplus(api: Api, s, dtype, device):
    return api.nn.Softplus(beta=s.beta, threshold=s.threshold)


@_shared("layer", "silu")
def silu(api: Api, s, dtype, device):
    return api.nn.SiLU()


@_shared("layer", "identity")
def identity(api: Api, s, dtype, device):
    return api.nn.Identity()


@_shared("layer", "dropout")
def dropout(api: Api, s, dtype, device):
    return api.nn.Dropout(s.p)


@_shared("layer", "batch_norm")
def batch_norm(api: Api, s, dtype, device, images: bool = False):
    cls = api.nn.BatchNorm2d if images else api.nn.BatchNorm1d
    return cls(s.num_features, eps=s.eps, momentum=s.momentum, affine=s.affine,
               track_running_stats=s.track_running_stats, dtype=dtype, device=device)


_shared("layer", "batch_norm2d")(functools.partial(batch_norm, images=True))


@_shared("layer", "layer_norm")
def layer_norm(api: Api, s, dtype, device):
    return api.nn.LayerNorm(s.normalized_shape, eps=s.eps, elementwise_affine=s.elementwise_affine, bias=s.bias,
                            dtype=dtype, device=device)


@_shared("layer", "softmax")
def softmax(api: Api, s, dtype, device):
    return api.nn.Softmax(dim=s.dim)


@_shared("layer", "log_softmax")
def log_softmax(api: Api, s, dtype, device):
    return api.nn.LogSoftmax(dim=s.dim)


# --------------------------------------------------------------------------- losses
@_shared("loss", "mse")
def mse(api: Api, s, dtype, device):
    return api.nn.MSELoss(reduction=s.reduction)


@_shared("loss", "l1")
def l1(api: Api, s, dtype, device):
    return api.nn.L1Loss(reduction=s.reduction)


@_shared("loss", "huber")
def huber(api: Api, s, dtype, device):
    return api.nn.HuberLoss(delta=s.delta, reduction=s.reduction)


def _class_weight(s, dtype, device) -> torch.Tensor | None:
    return None if s.weight is None else torch.tensor(s.weight, dtype=dtype, device=device)


@_shared("loss", "cross_entropy")
def cross_entropy(api: Api, s, dtype, device):
    return api.nn.CrossEntropyLoss(weight=_class_weight(s, dtype, device), label_smoothing=s.label_smoothing,
                                   reduction=s.reduction)


@_shared("loss", "nll")
def nll(api: Api, s, dtype, device):
    return api.nn.NLLLoss(weight=_class_weight(s, dtype, device), reduction=s.reduction)


@_shared("loss", "bce_with_logits")
def bce_with_logits(api: Api, s, dtype, device):
    return api.nn.BCEWithLogitsLoss(reduction=s.reduction)


# --------------------------------------------------------------------------- optimizers and schedulers
@_shared("optimizer", "sgd")
def sgd(api: Api, s, params):
    return api.optim.SGD(params, lr=s.lr, momentum=s.momentum, dampening=s.dampening,
                         weight_decay=s.weight_decay, nesterov=s.nesterov)


@_shared("optimizer", "adam")
def adam(api: Api, s, params):
    return api.optim.Adam(params, lr=s.lr, betas=s.betas, eps=s.eps, weight_decay=s.weight_decay,
                          amsgrad=s.amsgrad)


@_shared("optimizer", "adamw")
def adamw(api: Api, s, params):
    return api.optim.AdamW(params, lr=s.lr, betas=s.betas, eps=s.eps, weight_decay=s.weight_decay,
                           amsgrad=s.amsgrad)


@_shared("optimizer", "rmsprop")
def rmsprop(api: Api, s, params):
    return api.optim.RMSprop(params, lr=s.lr, alpha=s.alpha, eps=s.eps, weight_decay=s.weight_decay,
                             momentum=s.momentum, centered=s.centered)


@_shared("optimizer", "adagrad")
def adagrad(api: Api, s, params):
    return api.optim.Adagrad(params, lr=s.lr, lr_decay=s.lr_decay, weight_decay=s.weight_decay,
                             initial_accumulator_value=s.initial_accumulator_value, eps=s.eps)


@_shared("scheduler", "step")
def step_lr(api: Api, s, opt):
    return api.lr_scheduler.StepLR(opt, step_size=s.step_size, gamma=s.gamma)


@_shared("scheduler", "exponential")
def exponential_lr(api: Api, s, opt):
    return api.lr_scheduler.ExponentialLR(opt, gamma=s.gamma)


@_shared("scheduler", "cosine")
def cosine_lr(api: Api, s, opt):
    return api.lr_scheduler.CosineAnnealingLR(opt, T_max=s.T_max, eta_min=s.eta_min)
