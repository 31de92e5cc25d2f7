"""The hand-written backend: spec types -> mininet modules, and its training step."""

from __future__ import annotations

from typing import Any

import torch

import mininet as mn
from mininet import optim
from mininet.optim import lr_scheduler

from ..registry import builder

BACKEND = "mininet"


# --------------------------------------------------------------------------- layers
@builder(BACKEND, "container", "sequential")
def sequential(layers: list[Any]) -> mn.Sequential:
    return mn.Sequential(*layers)


@builder(BACKEND, "layer", "linear")
def linear(s, dtype, device):
    return mn.Linear(s.in_features, s.out_features, bias=s.bias, dtype=dtype, device=device)


@builder(BACKEND, "layer", "relu")
def relu(s, dtype, device):
    return mn.ReLU()


@builder(BACKEND, "layer", "leaky_relu")
def leaky_relu(s, dtype, device):
    return mn.LeakyReLU(s.negative_slope)


@builder(BACKEND, "layer", "tanh")
def tanh(s, dtype, device):
    return mn.Tanh()


@builder(BACKEND, "layer", "sigmoid")
def sigmoid(s, dtype, device):
    return mn.Sigmoid()


@builder(BACKEND, "layer", "elu")
def elu(s, dtype, device):
    return mn.ELU(s.alpha)


@builder(BACKEND, "layer", "gelu")
def gelu(s, dtype, device):
    return mn.GELU(approximate=s.approximate)


@builder(BACKEND, "layer", "softplus")
def softplus(s, dtype, device):
    return mn.Softplus(beta=s.beta, threshold=s.threshold)


@builder(BACKEND, "layer", "silu")
def silu(s, dtype, device):
    return mn.SiLU()


@builder(BACKEND, "layer", "identity")
def identity(s, dtype, device):
    return mn.Identity()


@builder(BACKEND, "layer", "dropout")
def dropout(s, dtype, device):
    return mn.Dropout(s.p)


@builder(BACKEND, "layer", "batch_norm")
def batch_norm(s, dtype, device):
    return mn.BatchNorm1d(s.num_features, eps=s.eps, momentum=s.momentum, affine=s.affine,
                          track_running_stats=s.track_running_stats).to(device=device, dtype=dtype)


# --------------------------------------------------------------------------- losses
@builder(BACKEND, "loss", "mse")
def mse(s, dtype, device):
    return mn.MSELoss(reduction=s.reduction)


@builder(BACKEND, "loss", "l1")
def l1(s, dtype, device):
    return mn.L1Loss(reduction=s.reduction)


@builder(BACKEND, "loss", "huber")
def huber(s, dtype, device):
    return mn.HuberLoss(delta=s.delta, reduction=s.reduction)


@builder(BACKEND, "loss", "cross_entropy")
def cross_entropy(s, dtype, device):
    weight = None if s.weight is None else torch.tensor(s.weight, dtype=dtype, device=device)
    return mn.CrossEntropyLoss(weight=weight, label_smoothing=s.label_smoothing, reduction=s.reduction)


@builder(BACKEND, "loss", "bce_with_logits")
def bce_with_logits(s, dtype, device):
    return mn.BCEWithLogitsLoss(reduction=s.reduction)


# --------------------------------------------------------------------------- optimizers and schedulers
@builder(BACKEND, "optimizer", "sgd")
def sgd(s, params):
    return optim.SGD(params, lr=s.lr, momentum=s.momentum, dampening=s.dampening,
                     weight_decay=s.weight_decay, nesterov=s.nesterov)


@builder(BACKEND, "optimizer", "adam")
def adam(s, params):
    return optim.Adam(params, lr=s.lr, betas=s.betas, eps=s.eps, weight_decay=s.weight_decay, amsgrad=s.amsgrad)


@builder(BACKEND, "optimizer", "adamw")
def adamw(s, params):
    return optim.AdamW(params, lr=s.lr, betas=s.betas, eps=s.eps, weight_decay=s.weight_decay, amsgrad=s.amsgrad)


@builder(BACKEND, "optimizer", "rmsprop")
def rmsprop(s, params):
    return optim.RMSprop(params, lr=s.lr, alpha=s.alpha, eps=s.eps, weight_decay=s.weight_decay,
                         momentum=s.momentum, centered=s.centered)


@builder(BACKEND, "optimizer", "adagrad")
def adagrad(s, params):
    return optim.Adagrad(params, lr=s.lr, lr_decay=s.lr_decay, weight_decay=s.weight_decay,
                         initial_accumulator_value=s.initial_accumulator_value, eps=s.eps)


@builder(BACKEND, "scheduler", "step")
def step_lr(s, opt):
    return lr_scheduler.StepLR(opt, step_size=s.step_size, gamma=s.gamma)


@builder(BACKEND, "scheduler", "exponential")
def exponential_lr(s, opt):
    return lr_scheduler.ExponentialLR(opt, gamma=s.gamma)


@builder(BACKEND, "scheduler", "cosine")
def cosine_lr(s, opt):
    return lr_scheduler.CosineAnnealingLR(opt, T_max=s.T_max, eta_min=s.eta_min)


# --------------------------------------------------------------------------- training
class MininetTrainer:
    """mininet model, loss and optimizer; R replicas trained as one computation when ``replicas``.

    The step is the hand-written chain rule: ``model.backward(criterion.backward())``.
    Everything runs under ``torch.inference_mode()``: no autograd anywhere.
    """

    backend = BACKEND

    def __init__(self, model, criterion, optimizer, scheduler, replicas: int | None) -> None:
        self.model, self.criterion, self.optimizer, self.scheduler = model, criterion, optimizer, scheduler
        self.replicas = replicas

    def context(self):
        return torch.inference_mode()

    def train(self, mode: bool) -> None:
        self.model.train(mode)

    def step(self, x: torch.Tensor, target: torch.Tensor) -> None:
        self.criterion(self.model(x), target)
        self.optimizer.zero_grad()
        # nothing needs d loss / d input here: skip it, as autograd does for data
        self.model.backward(self.criterion.backward(), input_grad=False)
        self.optimizer.step()

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        # evaluation has no backward: each layer drops what it kept as soon as it is done, so the
        # evaluation of a large set holds no more activations than torch's no_grad forward does
        for module in self.model:
            x = module(x)
            module.free_saved()
        return x

    def end_epoch(self) -> None:
        if self.scheduler is not None:
            self.scheduler.step()

    def states(self) -> list[dict[str, torch.Tensor]]:
        state = self.model.state_dict()
        if self.replicas is None:
            return [{k: v.detach().cpu().clone() for k, v in state.items()}]
        return [{k: v[r].detach().cpu().clone() for k, v in state.items()} for r in range(self.replicas)]


def _trainer(spec, states: list[dict[str, torch.Tensor]], vectorized: bool) -> MininetTrainer:
    from ..build import build_loss, build_model, build_optimizer, build_scheduler

    model = build_model(BACKEND, spec)
    criterion = build_loss(BACKEND, spec)
    replicas = len(states) if vectorized else None
    if vectorized:
        model.replicate(replicas)
        criterion.replicate(replicas)
        model.load_state_dict(mn.stack_state_dicts(states))
    else:
        (state,) = states
        model.load_state_dict(state)
    optimizer = build_optimizer(BACKEND, spec, list(model.parameters()))
    return MininetTrainer(model, criterion, optimizer, build_scheduler(BACKEND, spec, optimizer), replicas)


@builder(BACKEND, "trainer", "sequential")
def sequential_trainer(spec, states):
    return _trainer(spec, states, vectorized=False)


@builder(BACKEND, "trainer", "vectorized")
def vectorized_trainer(spec, states):
    return _trainer(spec, states, vectorized=True)
