"""Figures of a run directory: the report's learning curves (its Figure 2) and decision boundaries.

matplotlib is an optional extra (``pip install 'mininet[plot]'``). Figures are drawn on matplotlib's
Agg canvas directly (no pyplot), so plotting changes no global state and needs no display.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from ..data.dataset import Dataset
from ..train.metrics import METRICS
from .checkpoint import load_model, predict, read_checkpoint, repetition_data, resolved
from .files import atomic_write
from .rundir import SavedRun, checkpoint_path, file_stem

#: the report's colours: ours red, torch.nn blue
COLORS = {"mininet": "#d62728", "torch": "#1f77b4"}
NAMES = {"mininet": "mininet (ours)", "torch": "torch.nn"}
_OTHER_COLORS = ("#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
#: (row, column) of each metric's panel: losses on top, accuracies below; train left, test right
PANELS = {"train_loss": (0, 0), "test_loss": (0, 1), "train_acc": (1, 0), "test_acc": (1, 1)}
TITLES = {"train_loss": "loss, train", "test_loss": "loss, test", "train_acc": "accuracy (%), train",
          "test_acc": "accuracy (%), test"}
FORMATS = ("png", "svg")
DPI = 100


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed."""


def _figure(width: float, height: float):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotUnavailable("plotting needs matplotlib, an optional extra: pip install 'mininet[plot]' "
                              "(or pip install matplotlib)") from None
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def color(backend: str, index: int) -> str:
    return COLORS.get(backend, _OTHER_COLORS[index % len(_OTHER_COLORS)])


def learning_curves(metrics: dict[str, torch.Tensor], title: str = "") -> Any:
    """The report's Figure 2: for each metric an axis of epochs, every repetition faint, the mean bold.

    ``metrics`` maps each backend to its (repetitions, epochs, 4) tensor. The mean is over the
    repetitions that did not diverge. Later backends' means are dashed, so identical curves stay visible.
    """
    fig = _figure(11, 7.5)
    from matplotlib.ticker import MaxNLocator

    axes = fig.subplots(2, 2, sharex=True)
    for b, (backend, values) in enumerate(metrics.items()):
        reps, epochs, _ = values.shape
        x = range(1, epochs + 1)
        finite = torch.isfinite(values).flatten(1).all(1)
        mean = values[finite].mean(0) if finite.any() else torch.full(values.shape[1:], float("nan"))
        c = color(backend, b)
        for m, (row, col) in PANELS.items():
            ax = axes[row][col]
            i = METRICS.index(m)
            for k in range(reps):
                ax.plot(x, values[k, :, i].tolist(), color=c, alpha=0.18, linewidth=0.7, gid=f"{backend}-rep")
            ax.plot(x, mean[:, i].tolist(), color=c, linewidth=2.2, linestyle="-" if b == 0 else (0, (4, 3)),
                    label=f"{NAMES.get(backend, backend)}, mean of {int(finite.sum())}", gid=f"{backend}-mean")
    for m, (row, col) in PANELS.items():
        ax = axes[row][col]
        ax.set_title(TITLES[m])
        ax.grid(True, alpha=0.3)
        if m.endswith("loss") and all(bool((v[torch.isfinite(v)] > 0).all()) for v in metrics.values()):
            ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if row == 1:
            ax.set_xlabel("epoch")
    axes[0][0].legend(loc="upper right", title="bold: mean; faint: each repetition")
    if title:
        fig.suptitle(title)
    return fig


def _grid(data: Dataset, steps: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    x = torch.cat([data.x_train, data.x_test]).to(torch.float64)
    lo, hi = x.min(0).values, x.max(0).values
    pad = 0.08 * (hi - lo)
    g0 = torch.linspace(float(lo[0] - pad[0]), float(hi[0] + pad[0]), steps, dtype=torch.float64)
    g1 = torch.linspace(float(lo[1] - pad[1]), float(hi[1] + pad[1]), steps, dtype=torch.float64)
    mesh0, mesh1 = torch.meshgrid(g0, g1, indexing="xy")
    return mesh0, mesh1, torch.stack([mesh0.flatten(), mesh1.flatten()], 1).to(data.x_train.dtype)


def decision_boundaries(data: Dataset, predictors: dict[str, Callable[[torch.Tensor], torch.Tensor]],
                        title: str = "", steps: int = 200) -> Any:
    """Predicted class over the plane for each backend, side by side, with the test points on top."""
    if not data.is_plane:
        raise ValueError(f"decision boundaries need 2-D inputs, this data set has samples of shape "
                         f"{tuple(data.x_train.shape[1:])}")
    mesh0, mesh1, points = _grid(data, steps)
    fig = _figure(5.2 * len(predictors), 5)
    axes = fig.subplots(1, len(predictors), squeeze=False)[0]
    classes = [c - 0.5 for c in range(data.n_classes + 1)]
    predicted = {}
    for ax, (backend, fn) in zip(axes, predictors.items()):
        grid_class = fn(points).argmax(-1).reshape(mesh0.shape)
        predicted[backend] = grid_class
        test_acc = 100 * (fn(data.x_test).argmax(-1) == data.y_test).double().mean().item()
        ax.contourf(mesh0.numpy(), mesh1.numpy(), grid_class.double().numpy(), levels=classes, cmap="coolwarm",
                    alpha=0.35)
        ax.scatter(data.x_test[:, 0].double().numpy(), data.x_test[:, 1].double().numpy(),
                   c=data.y_test.numpy(), cmap="coolwarm", s=6, edgecolors="none", vmin=0, vmax=data.n_classes - 1)
        ax.set_title(f"{NAMES.get(backend, backend)}: test accuracy {test_acc:.2f}%")
        ax.set_xlabel("x0 (normalised)")
        ax.set_ylabel("x1 (normalised)")
        ax.set_aspect("equal", adjustable="box")
    grids = list(predicted.values())
    if len(grids) > 1:
        disagree = int(sum((g != grids[0]).sum().item() for g in grids[1:]))
        title = f"{title}\n" if title else ""
        title += f"grid points where the backends' predicted classes differ: {disagree} of {grids[0].numel()}"
    if title:
        fig.suptitle(title)
    return fig


def save_figure(fig: Any, stem: Path) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg``, each whole or not at all."""
    paths = []
    for fmt in FORMATS:
        path = stem.with_name(f"{stem.name}.{fmt}")
        with atomic_write(path, "wb") as f:
            fig.savefig(f, format=fmt, dpi=DPI)
        paths.append(path)
    return paths


def plot_run(run: SavedRun, out: Path | None = None, repetition: int = 0,
             specs: Sequence[str] | None = None) -> list[Path]:
    """Every figure of a run directory: learning curves per spec, and decision boundaries for 2-D data.

    Figures go to ``out`` (default ``RUN_DIR/figures``) as ``<spec>-curves`` and ``<spec>-boundary``.
    """
    out = run.directory / "figures" if out is None else Path(out)
    written: list[Path] = []
    for name, spec in run.specs.items():
        if specs and name not in specs:
            continue
        results = [r for r in run.results if r.spec_name == name]
        title = f"{name}: {spec.description}" if spec.description else name
        title += f" ({results[0].repetitions} repetitions)"
        written += save_figure(learning_curves({r.backend: r.metrics for r in results}, title), out / f"{file_stem(name)}-curves")
        if not 0 <= repetition < results[0].repetitions:
            raise ValueError(f"{name} has repetitions 0 to {results[0].repetitions - 1}, not {repetition}")
        base = run.base_dir(name)
        spec = resolved(spec, base)
        data = repetition_data(spec, repetition, base)
        if not data.is_plane:
            continue
        predictors = {}
        for r in results:
            ckpt = read_checkpoint(run.directory / checkpoint_path(name, r.backend, repetition))
            model = load_model(r.backend, spec, ckpt.state_dict)
            predictors[r.backend] = lambda x, model=model: predict(model, x)
        written += save_figure(decision_boundaries(data, predictors, f"{name}, repetition {repetition}"),
                               out / f"{file_stem(name)}-boundary")
    return written
