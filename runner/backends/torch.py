"""The reference backend: spec types -> torch.nn modules and torch.optim, trained with autograd.

Two trainers: one model at a time (plain torch.nn + ``loss.backward()``), and R replicas at once with
torch.func (``stack_module_state`` + ``functional_call`` + ``vmap(grad(...))``), torch's own answer to
training an ensemble in one computation, so that vectorized comparisons stay fair.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, grad, stack_module_state, vmap

from ..registry import builder

BACKEND = "torch"


# --------------------------------------------------------------------------- layers
@builder(BACKEND, "container", "sequential")
def sequential(layers: list[Any]) -> nn.Sequential:
    return nn.Sequential(*layers)


@builder(BACKEND, "layer", "linear")
def linear(s, dtype, device):
    return nn.Linear(s.in_features, s.out_features, bias=s.bias, dtype=dtype, device=device)


@builder(BACKEND, "layer", "relu")
def relu(s, dtype, device):
    return nn.ReLU()


@builder(BACKEND, "layer", "leaky_relu")
def leaky_relu(s, dtype, device):
    return nn.LeakyReLU(s.negative_slope)


@builder(BACKEND, "layer", "tanh")
def tanh(s, dtype, device):
    return nn.Tanh()


@builder(BACKEND, "layer", "sigmoid")
def sigmoid(s, dtype, device):
    return nn.Sigmoid()


@builder(BACKEND, "layer", "elu")
def elu(s, dtype, device):
    return nn.ELU(s.alpha)


@builder(BACKEND, "layer", "gelu")
def gelu(s, dtype, device):
    return nn.GELU(approximate=s.approximate)


@builder(BACKEND, "layer", "softplus")
def softplus(s, dtype, device):
    return nn.Softplus(beta=s.beta, threshold=s.threshold)


@builder(BACKEND, "layer", "silu")
def silu(s, dtype, device):
    return nn.SiLU()


@builder(BACKEND, "layer", "identity")
def identity(s, dtype, device):
    return nn.Identity()


@builder(BACKEND, "layer", "dropout")
def dropout(s, dtype, device):
    return nn.Dropout(s.p)


@builder(BACKEND, "layer", "batch_norm")
def batch_norm(s, dtype, device):
    return nn.BatchNorm1d(s.num_features, eps=s.eps, momentum=s.momentum, affine=s.affine,
                          track_running_stats=s.track_running_stats, dtype=dtype, device=device)


# --------------------------------------------------------------------------- losses
@builder(BACKEND, "loss", "mse")
def mse(s, dtype, device):
    return nn.MSELoss(reduction=s.reduction)


@builder(BACKEND, "loss", "l1")
def l1(s, dtype, device):
    return nn.L1Loss(reduction=s.reduction)


@builder(BACKEND, "loss", "huber")
def huber(s, dtype, device):
    return nn.HuberLoss(delta=s.delta, reduction=s.reduction)


@builder(BACKEND, "loss", "cross_entropy")
def cross_entropy(s, dtype, device):
    weight = None if s.weight is None else torch.tensor(s.weight, dtype=dtype, device=device)
    return nn.CrossEntropyLoss(weight=weight, label_smoothing=s.label_smoothing, reduction=s.reduction)


@builder(BACKEND, "loss", "bce_with_logits")
def bce_with_logits(s, dtype, device):
    return nn.BCEWithLogitsLoss(reduction=s.reduction)


# --------------------------------------------------------------------------- optimizers and schedulers
@builder(BACKEND, "optimizer", "sgd")
def sgd(s, params):
    return torch.optim.SGD(params, lr=s.lr, momentum=s.momentum, dampening=s.dampening,
                           weight_decay=s.weight_decay, nesterov=s.nesterov)


@builder(BACKEND, "optimizer", "adam")
def adam(s, params):
    return torch.optim.Adam(params, lr=s.lr, betas=s.betas, eps=s.eps, weight_decay=s.weight_decay,
                            amsgrad=s.amsgrad)


@builder(BACKEND, "optimizer", "adamw")
def adamw(s, params):
    return torch.optim.AdamW(params, lr=s.lr, betas=s.betas, eps=s.eps, weight_decay=s.weight_decay,
                             amsgrad=s.amsgrad)


@builder(BACKEND, "optimizer", "rmsprop")
def rmsprop(s, params):
    return torch.optim.RMSprop(params, lr=s.lr, alpha=s.alpha, eps=s.eps, weight_decay=s.weight_decay,
                               momentum=s.momentum, centered=s.centered)


@builder(BACKEND, "optimizer", "adagrad")
def adagrad(s, params):
    return torch.optim.Adagrad(params, lr=s.lr, lr_decay=s.lr_decay, weight_decay=s.weight_decay,
                               initial_accumulator_value=s.initial_accumulator_value, eps=s.eps)


@builder(BACKEND, "scheduler", "step")
def step_lr(s, opt):
    return torch.optim.lr_scheduler.StepLR(opt, step_size=s.step_size, gamma=s.gamma)


@builder(BACKEND, "scheduler", "exponential")
def exponential_lr(s, opt):
    return torch.optim.lr_scheduler.ExponentialLR(opt, gamma=s.gamma)


@builder(BACKEND, "scheduler", "cosine")
def cosine_lr(s, opt):
    return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=s.T_max, eta_min=s.eta_min)


# --------------------------------------------------------------------------- training
class TorchTrainer:
    """One torch.nn model trained with autograd: ``loss.backward()`` then ``optimizer.step()``."""

    backend = BACKEND

    def __init__(self, model, criterion, optimizer, scheduler) -> None:
        self.model, self.criterion, self.optimizer, self.scheduler = model, criterion, optimizer, scheduler

    def context(self):
        return torch.enable_grad()

    def train(self, mode: bool) -> None:
        self.model.train(mode)

    def step(self, x: torch.Tensor, target: torch.Tensor) -> None:
        loss = self.criterion(self.model(x), target)
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.model(x)

    def end_epoch(self) -> None:
        if self.scheduler is not None:
            self.scheduler.step()

    def states(self) -> list[dict[str, torch.Tensor]]:
        return [{k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}]


class TorchFuncTrainer(TorchTrainer):
    """R torch.nn models trained at once: stacked parameters, ``vmap(grad(loss))``, one torch.optim
    optimizer over the stacked tensors (its update is element-wise, so each replica gets its own)."""

    def __init__(self, models, criterion, optimizer_factory, scheduler_factory) -> None:
        self.params, self.buffers = stack_module_state(models)
        self.base = copy.deepcopy(models[0]).to("meta")
        self.criterion = criterion
        self.optimizer = optimizer_factory(list(self.params.values()))
        self.scheduler = scheduler_factory(self.optimizer)
        self.replicas = len(models)

        def loss_one(params, buffers, x, target):
            return criterion(functional_call(self.base, (params, buffers), (x,)), target)

        def forward_one(params, buffers, x):
            return functional_call(self.base, (params, buffers), (x,))

        self._grads = vmap(grad(loss_one))
        self._forward = vmap(forward_one)

    def train(self, mode: bool) -> None:
        self.base.train(mode)

    def step(self, x: torch.Tensor, target: torch.Tensor) -> None:
        grads = self._grads(self.params, self.buffers, x, target)
        for name, p in self.params.items():
            p.grad = grads[name]
        self.optimizer.step()

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self._forward(self.params, self.buffers, x)

    def states(self) -> list[dict[str, torch.Tensor]]:
        merged = {**self.params, **self.buffers}
        keys = list(self.base.state_dict().keys())
        return [{k: merged[k][r].detach().cpu().clone() for k in keys} for r in range(self.replicas)]


@builder(BACKEND, "trainer", "sequential")
def sequential_trainer(spec, states):
    from ..build import build_loss, build_model, build_optimizer, build_scheduler

    (state,) = states
    model = build_model(BACKEND, spec)
    model.load_state_dict(state)
    optimizer = build_optimizer(BACKEND, spec, model.parameters())
    return TorchTrainer(model, build_loss(BACKEND, spec), optimizer, build_scheduler(BACKEND, spec, optimizer))


@builder(BACKEND, "trainer", "vectorized")
def vectorized_trainer(spec, states):
    from ..build import build_loss, build_model, build_optimizer, build_scheduler

    models = []
    for state in states:
        model = build_model(BACKEND, spec)
        model.load_state_dict(state)
        models.append(model)
    return TorchFuncTrainer(models, build_loss(BACKEND, spec),
                            lambda params: build_optimizer(BACKEND, spec, params),
                            lambda opt: build_scheduler(BACKEND, spec, opt))
