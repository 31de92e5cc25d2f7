"""The one training loop both backends share; a backend contributes only its trainer's ``step``.

For repetition k everything random is drawn from ``seed + k`` by backend-neutral code (see
``mininet.runner.train.seeds``): the data set, the initial parameters (loaded into both backends) and every
epoch's batch order. Metrics are computed on whole sets, in eval mode, by ``mininet.runner.train.metrics``
for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import torch

from ..data import Dataset, data_shape, make_dataset
from ..spec.experiment import Spec
from ..spec.shapes import resolve
from .build import DTYPES, initial_state
from .metrics import METRICS, epoch_metrics, loss_targets
from .seeds import derive, generator


@dataclass
class Repetition:
    """Everything backend-neutral about one repetition: its data, initial state and batch orders."""

    index: int
    data: Dataset
    initial_state: dict[str, torch.Tensor]
    order_seed: int
    dropout_seed: int

    def orders(self, epochs: int, shuffle: bool) -> Iterator[torch.Tensor]:
        """One permutation of the training set per epoch (identity when not shuffling)."""
        n = len(self.data.y_train)
        g = torch.Generator().manual_seed(self.order_seed)
        for _ in range(epochs):
            yield torch.randperm(n, generator=g) if shuffle else torch.arange(n)


def prepare(spec: Spec, base_dir: Path = Path(".")) -> tuple[Spec, list[Repetition]]:
    """Resolve the spec's widths and draw every repetition's data and initial parameters."""
    n_features, _ = data_shape(spec.data, base_dir)
    spec = resolve(spec, n_features)
    dtype = DTYPES[spec.dtype]
    reps = []
    for k in range(spec.repetitions):
        data = make_dataset(spec.data, generator(spec.seed, k, "data"), base_dir, dtype, spec.device)
        reps.append(Repetition(k, data, initial_state(spec, k), derive(spec.seed, k, "order"),
                               derive(spec.seed, k, "dropout")))
    return spec, reps


def _take(t: torch.Tensor, perm: torch.Tensor, vectorized: bool) -> torch.Tensor:
    """Rows of ``t`` in the order ``perm`` ((N,), or (R, N): one order per replica along dimension 1).

    index_select and gather rather than advanced indexing: the same copy, several times faster.
    """
    if not vectorized:
        return t.index_select(0, perm)
    index = perm.view(*perm.shape, *(1,) * (t.dim() - 2)).expand(*perm.shape, *t.shape[2:])
    return torch.gather(t, 1, index)


#: called after every epoch with (backend, repetition indices being trained, epoch index, epochs,
#: that epoch's metrics: a (repetitions, len(METRICS)) tensor, still on the run's device)
Progress = Callable[[str, list[int], int, int, torch.Tensor], None]


def train_loop(trainer, spec: Spec, reps: list[Repetition], vectorized: bool,
               progress: Progress | None = None) -> torch.Tensor:
    """Train ``trainer`` on ``reps`` (all at once when vectorized, else exactly one); metrics (R, E, 4)."""
    d0 = reps[0].data
    n_train, batch = len(d0.y_train), spec.train.batch_size
    dtype = DTYPES[spec.dtype]

    def stacked(get):
        return torch.stack([get(r) for r in reps]) if vectorized else get(reps[0])

    x = stacked(lambda r: r.data.x_train)
    target = stacked(lambda r: loss_targets(spec.loss.type, r.data.y_train, r.data.n_classes, dtype))
    x_eval = stacked(lambda r: torch.cat([r.data.x_train, r.data.x_test]))
    y_eval = stacked(lambda r: torch.cat([r.data.y_train, r.data.y_test]))
    t_eval = loss_targets(spec.loss.type, y_eval, d0.n_classes, dtype)
    if not vectorized:
        y_eval, t_eval = y_eval.unsqueeze(0), t_eval.unsqueeze(0)
    orders = [r.orders(spec.train.epochs, spec.train.shuffle) for r in reps]
    dim = 1 if vectorized else 0
    history = []
    indices = [r.index for r in reps]
    monitor = getattr(spec.scheduler, "monitor", None)  # ReduceLROnPlateau's metric (sequential runs only)
    with trainer.context():
        for epoch in range(spec.train.epochs):
            perm = torch.stack([next(o) for o in orders]) if vectorized else next(orders[0])
            perm = perm.to(x.device)
            # one gather per epoch; the batches are then views of the permuted set
            xp, tp = _take(x, perm, vectorized), _take(target, perm, vectorized)
            trainer.train(True)
            for start in range(0, n_train, batch):
                size = min(batch, n_train - start)
                trainer.step(xp.narrow(dim, start, size), tp.narrow(dim, start, size))
            trainer.train(False)
            out = trainer.predict(x_eval)
            history.append(epoch_metrics(spec.loss, out if vectorized else out.unsqueeze(0), t_eval, y_eval, n_train))
            # after the evaluation, which a learning rate does not change: a scheduler may watch a metric
            trainer.end_epoch(() if monitor is None else (history[-1][0, METRICS.index(monitor)].item(),))
            if progress is not None:
                progress(trainer.backend, indices, epoch, spec.train.epochs, history[-1])
    return torch.stack(history, 1).to(device="cpu", dtype=torch.float64)
