"""Checkpoints that load into either backend, and evaluation of a saved model on its spec's data.

A checkpoint is ``torch.save`` of a plain dict (loaded back with ``weights_only=True``: tensors,
strings and numbers only, no pickled code):

* ``state_dict``: the final parameters and buffers; its keys are the same on both backends by design,
  so a model trained by mininet loads into torch.nn and vice versa;
* ``spec_toml``: the resolved spec text, ``base_dir`` (where its relative paths start) and
  ``repetition``: enough to redraw the repetition's data set, so ``mininet eval`` needs no other file;
* ``backend`` that trained it and the ``final_metrics`` recorded at the end of training.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..data.dataset import Dataset, data_shape, make_dataset
from ..spec.experiment import Spec
from ..spec.load import tomllib, validate
from ..spec.shapes import resolve
from ..train.build import DTYPES, build_model
from ..train.metrics import METRICS, epoch_metrics, loss_targets
from ..train.seeds import generator

FORMAT = "mininet-checkpoint"
VERSION = 1


def spec_from_text(text: str, file: str, plugin_dir: Path | None = None) -> Spec:
    """Validate spec TOML text (raises :class:`~mininet.runner.spec.load.SpecError`); the plugins it
    names are found from ``plugin_dir``, the spec's folder."""
    return validate(tomllib.loads(text), file, plugin_dir=plugin_dir)


class CheckpointError(ValueError):
    """A file that is not a readable mininet checkpoint."""


@dataclass
class Checkpoint:
    state_dict: dict[str, torch.Tensor]
    spec_toml: str
    base_dir: str
    spec_name: str
    repetition: int
    backend: str
    final_metrics: dict[str, float]

    def spec(self) -> Spec:
        """The resolved spec the model was trained from."""
        return spec_from_text(self.spec_toml, f"<spec in checkpoint of {self.spec_name}>", Path(self.base_dir))

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        torch.save({"format": FORMAT, "version": VERSION, **self.__dict__}, buf)
        return buf.getvalue()


def read_checkpoint(path: str | Path) -> Checkpoint:
    try:
        doc = torch.load(Path(path), map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: file not found") from None
    except Exception as e:  # torch raises several kinds for a file that is not a checkpoint
        raise CheckpointError(f"{path}: not a mininet checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a mininet checkpoint (no '{FORMAT}' marker)")
    if doc.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {doc.get('version')}, this mininet reads {VERSION}")
    fields = {k: doc[k] for k in Checkpoint.__dataclass_fields__}
    return Checkpoint(**fields)


# --------------------------------------------------------------------------- models and data
def resolved(spec: Spec, base_dir: Path) -> Spec:
    """The spec with inferred widths filled in (as the trainer builds it)."""
    return resolve(spec, data_shape(spec.data, base_dir)[0])


def load_model(backend: str, spec: Spec, state: dict[str, torch.Tensor]) -> Any:
    """A CPU model of the resolved ``spec`` on ``backend`` holding ``state``, in eval mode."""
    model = build_model(backend, spec, device="cpu")
    model.load_state_dict(state)
    model.eval()
    return model


def predict(model: Any, x: torch.Tensor) -> torch.Tensor:
    """Outputs of an eval-mode model of either backend; no autograd graph on either."""
    with torch.inference_mode():
        return model(x)


def repetition_data(spec: Spec, repetition: int, base_dir: Path) -> Dataset:
    """The data set of one repetition, drawn exactly as training drew it (on the CPU)."""
    return make_dataset(spec.data, generator(spec.seed, repetition, "data"), base_dir, DTYPES[spec.dtype], "cpu")


def evaluate_state(backend: str, spec: Spec, state: dict[str, torch.Tensor], data: Dataset) -> dict[str, float]:
    """Loss and accuracy on the training and test sets, computed as training computes them."""
    model = load_model(backend, spec, state)
    x = torch.cat([data.x_train, data.x_test])
    y = torch.cat([data.y_train, data.y_test])
    target = loss_targets(spec.loss.type, y, data.n_classes, DTYPES[spec.dtype])
    out = predict(model, x)
    values = epoch_metrics(spec.loss, out.unsqueeze(0), target.unsqueeze(0), y.unsqueeze(0), len(data.y_train))
    return dict(zip(METRICS, values[0].to(torch.float64).tolist()))


def evaluate(checkpoint: Checkpoint, backend: str, spec: Spec | None = None,
             base_dir: Path | None = None, repetition: int | None = None) -> dict[str, float]:
    """Evaluate a checkpoint on ``backend``; the spec, folder and repetition default to the checkpoint's."""
    base = Path(checkpoint.base_dir) if base_dir is None else base_dir
    spec = resolved(checkpoint.spec() if spec is None else spec, base)
    k = checkpoint.repetition if repetition is None else repetition
    return evaluate_state(backend, spec, checkpoint.state_dict, repetition_data(spec, k, base))
