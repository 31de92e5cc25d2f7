"""Static checks of a validated spec: what pydantic cannot see field by field.

They run before any data is drawn or any model is built, and find every mismatch at once:

* the data: a CSV file must be readable, with its columns as the spec says;
* widths: each layer's input width must be the previous layer's output width (the data's feature
  count for the first), a ``num_features`` or ``normalized_shape`` must be the width it normalises,
  and the last width must be what the loss expects: one output per class (class-index losses) or the
  width of the one-hot targets (``mse``, ``l1``, ...); a class-weight list needs one weight per class;
* the loss's input: ``nll`` needs a model that ends with a ``log_softmax`` over the classes;
* inits: a bias cannot use an init that needs a weight matrix's fans;
* the schedule: a scheduler with a fixed number of steps lasts the training, momentum cycling needs
  an optimizer with momentum;
* the device: ``cuda`` needs a GPU that this torch can see.

Each finding is ``(key path, message)``; :mod:`mininet.runner.spec.load` adds the file and line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..data.csv_file import DataError
from ..data.dataset import data_shape
from .base import MATRIX_ONLY_INITS
from .experiment import Spec
from .losses import ONE_HOT_LOSSES
from ..data.samples import Steps
from .shapes import Finding, Shape, describe, key_path, kind, walk


def check_spec(spec: Spec, base_dir: Path = Path(".")) -> list[Finding]:
    """Every static problem of ``spec`` (whose relative data paths start at ``base_dir``)."""
    return (check_device(spec.device) + check_parts(spec.data, spec.model, spec.loss, base_dir)
            + check_schedule(spec))


def check_schedule(spec: Spec) -> list[Finding]:
    """A scheduler is stepped once per epoch: one with a fixed number of steps must last the training
    (torch raises at the step after its last), and one that cycles momentum needs an optimizer with a
    momentum or Adam's betas."""
    scheduler, findings = spec.scheduler, []
    total = getattr(scheduler, "total_steps", None)
    if total is not None and total < spec.train.epochs:
        findings.append((("scheduler", "total_steps"), f"{total} steps, but the training has {spec.train.epochs} "
                                                       "epochs and the scheduler steps once per epoch"))
    fields = type(spec.optimizer).model_fields
    if getattr(scheduler, "cycle_momentum", False) and "momentum" not in fields and "betas" not in fields:
        findings.append((("scheduler", "cycle_momentum"), f"the {spec.optimizer.type} optimizer has no momentum "
                                                          "or betas to cycle; set cycle_momentum = false"))
    return findings


def check_device(device: str) -> list[Finding]:
    """A CUDA spec needs a CUDA build of torch and a visible GPU: say so before any work starts."""
    if device == "cuda" and not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else f"built for CUDA {torch.version.cuda}"
        return [(("device",), f"'cuda' asked for, but torch {torch.__version__} ({build}) sees no GPU; "
                              "use device = \"cpu\"")]
    return []


def check_parts(data: Any, model: Any, loss: Any, base_dir: Path = Path(".")) -> list[Finding]:
    """The checks that the valid parts of a spec allow (a part is None where it did not validate),
    so that a spec with a bad optimizer still has its widths checked."""
    findings = check_inits(model) if model is not None else []
    if data is not None:
        shape, data_findings = check_data(data, base_dir)
        findings += data_findings
    else:
        shape = None
    if model is not None:
        findings += check_widths(data, model, loss, *(shape or (None, None)))
        findings += check_loss_input(model, loss)
    return findings


def check_data(data: Any, base_dir: Path) -> tuple[tuple[Shape, int] | None, list[Finding]]:
    """(one sample's shape, n_classes) of the data, or the reason it cannot be read."""
    try:
        n_features, n_classes = data_shape(data, base_dir)
    except (DataError, OSError, ValueError) as e:
        message = str(e)
        test_path = getattr(data, "test_path", None)
        if "label_column" in message or "no column named" in message:
            key = "label_column"
        elif test_path is not None and (message.startswith(test_path) or str(base_dir / test_path) in message):
            key = "test_path"
        else:
            key = "path"
        return None, [(("data", key), message)]
    if isinstance(n_features, int) and n_features < 1:
        return None, [(("data", "label_column"), "the data has no feature columns besides the label")]
    return (n_features, n_classes), []


def check_widths(data: Any, model: Any, loss: Any, features: Shape | None,
                 n_classes: int | None) -> list[Finding]:
    """Sizes chain from the data through every layer to the loss (when ``loss`` is known).

    With the data's shape unknown (``None``: the data table did not validate) the layers are still
    checked against each other."""
    result = walk(model.layers, features, data)
    findings = result.findings
    if loss is None or n_classes is None or result.shape is None:
        return findings
    width, source = result.shape, result.source
    per_step = getattr(data, "targets_per_step", False)
    output = describe(width, source, data)
    steps = isinstance(width, Steps)
    if steps and per_step:
        width = width.features  # each step's classes
    if kind(width) == "image":
        findings.append((("model", "layers"), f"the model's output is images ({output}), but the loss "
                                              f"({loss.type}) needs one value per class: end with a layer "
                                              '{ type = "flatten" } and a linear layer'))
    elif per_step and not steps:
        findings.append((("model", "layers"), f"the data ({data.type}) has a target at every time step, but "
                                              f"{output}: keep the sequence to the end (output = \"sequence\" "
                                              "on recurrent layers, no flatten)"))
    elif kind(width) != "vector":
        findings.append((("model", "layers"), f"the data ({data.type}) has one label per sequence, but {output}: "
                                              'take the last step (output = "last" on the recurrent layer) or '
                                              'flatten the sequence'))
    elif width != n_classes:
        need = ("its one-hot targets have one column per class" if loss.type in ONE_HOT_LOSSES
                else "it needs one output (logit) per class")
        what = f"the data ({data.type}) has {n_classes} classes and the loss is {loss.type}: {need}"
        if source is None:
            findings.append((("model", "layers"), f"the model outputs {width} values (no layer changes the "
                                                  f"data's width), but {what}"))
        else:
            place, layer = source
            key = key_path(place) + (("out_features",) if layer.type == "linear" else ())
            findings.append((key, f"the last width is {width}, but {what}; expected {n_classes}"))
    weight = getattr(loss, "weight", None)
    if weight is not None and len(weight) != n_classes:
        findings.append((("loss", "weight"), f"has {len(weight)} class weights, but the data "
                                             f"({data.type}) has {n_classes} classes"))
    return findings


def check_loss_input(model: Any, loss: Any) -> list[Finding]:
    """``nll`` takes log-probabilities, which only a final ``log_softmax`` over the classes makes: a model
    that ends in logits would train on an unbounded loss."""
    if loss is None or loss.type != "nll" or not model.layers:
        return []
    last = model.layers[-1]
    if last.type != "log_softmax":
        return [(("loss", "type"), f"'nll' takes log-probabilities, but the model ends with a {last.type} layer: "
                                   "add a last layer { type = \"log_softmax\" }, or use 'cross_entropy', which "
                                   "takes the logits")]
    if last.dim not in (-1, 1):
        return [(("model", "layers", len(model.layers) - 1, "dim"),
                 f"is {last.dim}, the batch dimension: before 'nll' the log_softmax must run over the classes "
                 "(dim = -1)")]
    return []


def check_inits(model: Any) -> list[Finding]:
    """A bias is a vector: it has no fans, so the inits that need them cannot fill it."""
    findings = []
    schemes = [(("model", "init"), model.init)]
    schemes += [(("model", "layers", i, "init"), layer.init) for i, layer in enumerate(model.layers)
                if getattr(layer, "init", None) is not None]
    for path, scheme in schemes:
        if scheme.bias in MATRIX_ONLY_INITS:
            findings.append((path + ("bias",), f"{scheme.bias!r} needs a weight matrix's fan-in and fan-out, "
                                               "which a bias vector has not; use 'zeros', 'ones' or "
                                               "'torch_default' (U(+-1/sqrt(fan_in)) of its layer)"))
    return findings
