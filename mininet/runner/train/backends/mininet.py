"""The hand-written backend: mininet's modules, found by the torch.nn class names that spec classes
give (``builds``), and its training step."""

from __future__ import annotations

import torch

import mininet as mn
from mininet import optim
from mininet.optim import lr_scheduler
from mininet.rnn import RNNBase

from . import mininet_layers
from ...registry import REGISTRY, Namespaces, builder
from ..build import build_loss, build_model, build_optimizer, build_scheduler

BACKEND = "mininet"

REGISTRY.add_backend(BACKEND, Namespaces(nn=mn, optim=optim, lr_scheduler=lr_scheduler, layers=mininet_layers))


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

    def end_epoch(self, scheduler_args: tuple = ()) -> None:
        if self.scheduler is not None:
            self.scheduler.step(*scheduler_args)

    def states(self) -> list[dict[str, torch.Tensor]]:
        state = self.model.state_dict()
        if self.replicas is None:
            return [{k: v.detach().cpu().clone() for k, v in state.items()}]
        return [{k: v[r].detach().cpu().clone() for k, v in state.items()} for r in range(self.replicas)]


def _take_rows_of_embeddings(model) -> None:
    """A recurrent layer right after an Embedding in the model's chain takes the embedding's output
    as rows of its table in training (``RNNBase.take_rows_of``): the chain hands the layer's table
    gradient straight to the embedding."""
    chain = list(model) if isinstance(model, mn.Sequential) else []
    for before, layer in zip(chain, chain[1:]):
        if isinstance(before, mn.Embedding) and isinstance(layer, RNNBase):
            layer.take_rows_of(before)


def _trainer(spec, states: list[dict[str, torch.Tensor]], vectorized: bool) -> MininetTrainer:
    model = build_model(BACKEND, spec)
    _take_rows_of_embeddings(model)
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
