"""The reference backend: spec types -> torch.nn modules and torch.optim, trained with autograd.

Two trainers: one model at a time (plain torch.nn + ``loss.backward()``), and R replicas at once with
torch.func (``stack_module_state`` + ``functional_call`` + ``vmap(grad(...))``), torch's own answer to
training an ensemble in one computation, so that vectorized comparisons stay fair.
"""

from __future__ import annotations

import copy
import torch
from torch import nn
from torch.func import functional_call, grad, stack_module_state, vmap

from . import torch_layers
from ...registry import REGISTRY, Namespaces, builder
from ..build import build_loss, build_model, build_optimizer, build_scheduler

BACKEND = "torch"

REGISTRY.add_backend(BACKEND, Namespaces(nn=nn, optim=torch.optim, lr_scheduler=torch.optim.lr_scheduler,
                                         layers=torch_layers))


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

    def end_epoch(self, scheduler_args: tuple = ()) -> None:
        if self.scheduler is not None:
            self.scheduler.step(*scheduler_args)

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
    (state,) = states
    model = build_model(BACKEND, spec)
    model.load_state_dict(state)
    optimizer = build_optimizer(BACKEND, spec, model.parameters())
    return TorchTrainer(model, build_loss(BACKEND, spec), optimizer, build_scheduler(BACKEND, spec, optimizer))


@builder(BACKEND, "trainer", "vectorized")
def vectorized_trainer(spec, states):
    models = []
    for state in states:
        model = build_model(BACKEND, spec)
        model.load_state_dict(state)
        models.append(model)
    return TorchFuncTrainer(models, build_loss(BACKEND, spec),
                            lambda params: build_optimizer(BACKEND, spec, params),
                            lambda opt: build_scheduler(BACKEND, spec, opt))
