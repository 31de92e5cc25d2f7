"""The case tables shared by the parity, finite-difference and replica tests.

A case builds its module from a namespace, ``torch.nn`` or ``mininet``: both spell every layer the
same way, so one lambda describes the torch model and the mininet model alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import pytest
import torch
import torch.nn.functional as F

import mininet

# Dropout draws its mask when it runs: every forward starts from this seed so that torch and mininet
# (and repeated finite-difference evaluations) see the same mask.
FORWARD_SEED = 1234


@dataclass(frozen=True)
class LayerCase:
    id: str
    build: Callable[[Any], Any]  # namespace (torch.nn or mininet) -> module
    shape: tuple[int, ...]  # input shape
    train: bool = True
    scale: float = 1.0  # input ~ scale * N(0, 1)
    # more forward arguments after the input (recurrent states): (dtype, lead) -> tuple, where lead is
    # () or (R,) for a replicated module; nested tuples as forward takes them, e.g. ((h0, c0),)
    extra: Callable[[torch.dtype, tuple[int, ...]], tuple] | None = None
    indices: int | None = None  # the input is integer indices in [0, indices) (Embedding), not N(0, 1)
    replicable: bool = True  # False: the module does not support replicate() (attention)


@dataclass(frozen=True)
class CallCase:
    """A layer called with several tensors and keyword arguments: ``forward(*inputs, **kwargs)``, one
    output or a tuple (attention). ``self_attention``: the one input is passed as query, key and value."""

    id: str
    build: Callable[[Any], Any]
    shapes: tuple[tuple[int, ...], ...]  # the differentiated inputs
    kwargs: Callable[[torch.dtype], dict] = lambda dtype: {}  # masks and flags, the same for both backends
    tie: str = ""  # "qkv": one input is query, key and value; "kv": the second input is key and value
    train: bool = True

    @property
    def arg_inputs(self) -> tuple[int, ...]:
        """Which input each of forward's positional tensors is."""
        return {"qkv": (0, 0, 0), "kv": (0, 1, 1)}.get(self.tie, tuple(range(len(self.shapes))))

    def inputs(self, dtype: torch.dtype) -> list[torch.Tensor]:
        return [torch.randn(shape, dtype=dtype) for shape in self.shapes]

    def args(self, inputs: list) -> tuple:
        """forward's positional tensors (the same tensor object where the case ties them)."""
        return tuple(inputs[i] for i in self.arg_inputs)


def can_replicate(case: LayerCase) -> bool:
    """Whether the case has a replicated form: attention does not support replicate(), and replicated
    recurrent layers and cells take batched inputs only."""
    return case.replicable and "unbatched" not in case.id


def case_inputs(case: LayerCase, dtype: torch.dtype, replicas: int | None = None) -> tuple:
    """The forward arguments of a layer case (drawn from the current random state)."""
    lead = (replicas,) if replicas else ()
    shape = lead + case.shape
    x = torch.randint(0, case.indices, shape) if case.indices else case.scale * torch.randn(shape, dtype=dtype)
    return (x,) + (case.extra(dtype, lead) if case.extra else ())


def flatten(obj: Any) -> list:
    """The tensors of a (nested) tuple in order, None entries kept: how backward's gradients line up."""
    if not isinstance(obj, tuple):
        return [obj]
    return [t for item in obj for t in flatten(item)]


def clone_inputs(args: tuple, requires_grad: bool = False) -> tuple:
    """A copy of nested forward arguments; float tensors made leaves that require grad if asked."""
    def one(t):
        if isinstance(t, tuple):
            return tuple(one(u) for u in t)
        t = t.clone()
        return t.requires_grad_() if requires_grad and t.is_floating_point() else t
    return tuple(one(a) for a in args)


def grads_as_list(result: Any, n: int) -> list:
    """backward's return value as one entry per flattened forward input (a tensor, None for indices)."""
    out = list(result) if isinstance(result, tuple) else [result]
    return out + [None] * (n - len(out)) if len(out) < n else out


def _states(*sizes: tuple[int, ...]):
    """extra= for recurrent states of these shapes (an LSTM's pair as one tuple argument)."""
    def extra(dtype, lead):
        states = tuple(torch.randn(lead + size, dtype=dtype) for size in sizes)
        return states if len(states) == 1 else (states,)
    return extra


@dataclass(frozen=True)
class LossCase:
    id: str
    build: Callable[[Any], Any]
    shape: tuple[int, ...]  # input shape
    target: Callable[[tuple[int, ...], torch.dtype], torch.Tensor]  # (input shape, dtype) -> target
    scale: float = 1.0
    # False for torch's K-dimensional classification layout (N, C, d1, ..., dK): a replicated loss
    # takes (R, N, C), so it has no replicated counterpart
    replicable: bool = True


def _same(shape, dtype):
    return torch.randn(shape, dtype=dtype)


def _classes(shape, dtype):
    return torch.randint(0, shape[-1], shape[:-1])


def _classes_some_ignored(shape, dtype):
    # every third row holds torch's default ignore_index
    t = torch.randint(0, shape[-1], shape[:-1])
    t.view(-1)[::3] = -100
    return t


def _classes_often_1(shape, dtype):
    # class 1 in every other row, for ignore_index=1: a valid class that is ignored
    t = torch.randint(0, shape[-1], shape[:-1])
    t.view(-1)[::2] = 1
    return t


def _probabilities(shape, dtype):
    return torch.softmax(2 * torch.randn(shape, dtype=dtype), dim=-1)


def _classes_dim1(shape, dtype):
    # torch's K-dimensional layout: input (N, C, d1, ..., dK), target (N, d1, ..., dK)
    return torch.randint(0, shape[1], shape[:1] + shape[2:])


def _classes_dim1_some_ignored(shape, dtype):
    t = _classes_dim1(shape, dtype)
    t.view(-1)[::3] = -100
    return t


def _probabilities_dim1(shape, dtype):
    return torch.softmax(2 * torch.randn(shape, dtype=dtype), dim=1)


def _binary(shape, dtype):
    # A mix of hard labels and soft targets in [0, 1].
    return torch.where(torch.rand(shape) < 0.5, torch.rand(shape), torch.randint(0, 2, shape).float()).to(dtype)


def _class_weight():
    return torch.tensor([0.5, 2.0, 1.0, 1.5])


LAYER_CASES = [
    LayerCase("Linear", lambda nn: nn.Linear(4, 3), (5, 4)),
    LayerCase("Linear-nobias", lambda nn: nn.Linear(4, 3, bias=False), (5, 4)),
    LayerCase("Linear-3d", lambda nn: nn.Linear(4, 3), (2, 5, 4)),
    LayerCase("Identity", lambda nn: nn.Identity(), (5, 4)),
    LayerCase("Sequential", lambda nn: nn.Sequential(
        nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Dropout(0.3), nn.Linear(6, 5), nn.GELU(),
        nn.Linear(5, 3), nn.Tanh()), (6, 4)),
    LayerCase("Sequential-eval", lambda nn: nn.Sequential(
        nn.Linear(4, 6), nn.BatchNorm1d(6), nn.SiLU(), nn.Dropout(0.3), nn.Linear(6, 3), nn.Sigmoid()),
        (6, 4), train=False),
    LayerCase("ReLU", lambda nn: nn.ReLU(), (5, 4)),
    LayerCase("LeakyReLU", lambda nn: nn.LeakyReLU(), (5, 4)),
    LayerCase("LeakyReLU-0.2-inplace", lambda nn: nn.LeakyReLU(0.2, inplace=True), (5, 4)),
    LayerCase("Tanh", lambda nn: nn.Tanh(), (5, 4)),
    LayerCase("Sigmoid", lambda nn: nn.Sigmoid(), (5, 4), scale=3.0),
    LayerCase("ELU", lambda nn: nn.ELU(), (5, 4), scale=2.0),
    LayerCase("ELU-0.5-inplace", lambda nn: nn.ELU(alpha=0.5, inplace=True), (5, 4), scale=2.0),
    LayerCase("GELU", lambda nn: nn.GELU(), (5, 4), scale=2.0),
    LayerCase("GELU-tanh", lambda nn: nn.GELU(approximate="tanh"), (5, 4), scale=2.0),
    LayerCase("Softplus", lambda nn: nn.Softplus(), (5, 4), scale=3.0),
    # beta * x > threshold for about a third of the inputs: the linear region.
    LayerCase("Softplus-threshold", lambda nn: nn.Softplus(beta=2.0, threshold=1.0), (5, 4), scale=2.0),
    LayerCase("SiLU", lambda nn: nn.SiLU(), (5, 4), scale=2.0),
    LayerCase("SiLU-inplace", lambda nn: nn.SiLU(inplace=True), (5, 4), scale=2.0),
    LayerCase("Dropout-train", lambda nn: nn.Dropout(0.4), (6, 5)),
    LayerCase("Dropout-train-inplace", lambda nn: nn.Dropout(0.25, inplace=True), (6, 5)),
    LayerCase("Dropout-p1", lambda nn: nn.Dropout(1.0), (3, 4)),
    LayerCase("Dropout-eval", lambda nn: nn.Dropout(0.4), (6, 5), train=False),
    LayerCase("BatchNorm1d-train", lambda nn: nn.BatchNorm1d(4), (6, 4)),
    LayerCase("BatchNorm1d-train-3d", lambda nn: nn.BatchNorm1d(4), (3, 4, 5)),
    LayerCase("BatchNorm1d-eval", lambda nn: nn.BatchNorm1d(4), (6, 4), train=False),
    LayerCase("BatchNorm1d-eval-3d", lambda nn: nn.BatchNorm1d(4), (3, 4, 5), train=False),
    LayerCase("BatchNorm1d-noaffine", lambda nn: nn.BatchNorm1d(4, affine=False), (6, 4)),
    LayerCase("BatchNorm1d-nobias", lambda nn: nn.BatchNorm1d(4, bias=False), (6, 4)),
    LayerCase("BatchNorm1d-untracked", lambda nn: nn.BatchNorm1d(4, track_running_stats=False), (6, 4)),
    LayerCase("BatchNorm1d-untracked-eval", lambda nn: nn.BatchNorm1d(4, track_running_stats=False), (6, 4),
              train=False),
    LayerCase("BatchNorm1d-cumulative", lambda nn: nn.BatchNorm1d(4, momentum=None, eps=1e-3), (6, 4)),
    LayerCase("Conv2d", lambda nn: nn.Conv2d(3, 4, 3), (2, 3, 6, 6)),
    LayerCase("Conv2d-stride-padding", lambda nn: nn.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 7, 7)),
    # 8 + 2 - 3 = 7 is odd: the stride leaves the last row and column out of every window
    LayerCase("Conv2d-stride-uncovered", lambda nn: nn.Conv2d(3, 4, 3, stride=2, padding=1), (2, 3, 8, 8)),
    LayerCase("Conv2d-same-dilation-groups", lambda nn: nn.Conv2d(4, 6, 3, padding="same", dilation=2, groups=2),
              (2, 4, 7, 7)),
    # padding other than symmetric zeros: F.pad first, its backward adds the copies' gradients back
    LayerCase("Conv2d-reflect", lambda nn: nn.Conv2d(2, 3, 3, padding=2, padding_mode="reflect"), (2, 2, 5, 6)),
    LayerCase("Conv2d-replicate-stride", lambda nn: nn.Conv2d(2, 3, 3, stride=2, padding=(1, 2),
                                                              padding_mode="replicate"), (2, 2, 5, 6)),
    LayerCase("Conv2d-circular-groups", lambda nn: nn.Conv2d(4, 2, (3, 2), padding=(2, 1), groups=2,
                                                             padding_mode="circular"), (2, 4, 4, 5)),
    # an even effective kernel: torch pads one more at the bottom and right
    LayerCase("Conv2d-same-even-kernel", lambda nn: nn.Conv2d(2, 3, (2, 4), padding="same"), (2, 2, 5, 6)),
    LayerCase("Conv2d-same-even-reflect-dilation", lambda nn: nn.Conv2d(2, 3, 2, padding="same", dilation=3,
                                                                        padding_mode="reflect"), (2, 2, 6, 6)),
    LayerCase("Conv2d-rect-nobias", lambda nn: nn.Conv2d(2, 3, (2, 3), stride=(2, 1), bias=False), (2, 2, 6, 5)),
    LayerCase("MaxPool2d", lambda nn: nn.MaxPool2d(2), (2, 3, 6, 6)),
    # stride 1: the windows overlap, and a maximum collects the gradients of several windows
    LayerCase("MaxPool2d-overlapping-padded", lambda nn: nn.MaxPool2d(3, stride=1, padding=1), (2, 2, 5, 5)),
    LayerCase("MaxPool2d-ceil", lambda nn: nn.MaxPool2d(2, ceil_mode=True), (2, 2, 5, 5)),
    LayerCase("AvgPool2d", lambda nn: nn.AvgPool2d(2), (2, 3, 6, 6)),
    LayerCase("AvgPool2d-padded-ceil-own-pixels", lambda nn: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True,
                                                                          count_include_pad=False), (2, 2, 6, 6)),
    LayerCase("AvgPool2d-divisor", lambda nn: nn.AvgPool2d(2, stride=1, divisor_override=3), (2, 2, 5, 5)),
    LayerCase("Flatten", lambda nn: nn.Flatten(), (2, 3, 4)),
    LayerCase("Flatten-dims", lambda nn: nn.Flatten(1, 2), (2, 3, 4, 5)),
    LayerCase("Sequential-cnn", lambda nn: nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 3 * 3, 2)),
        (2, 1, 6, 6)),
    LayerCase("Sequential-cnn-batchnorm", lambda nn: nn.Sequential(
        nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 2 * 2, 3)),
        (3, 2, 6, 6)),
    LayerCase("Softmax", lambda nn: nn.Softmax(dim=-1), (5, 4), scale=2.0),
    LayerCase("Softmax-dim0", lambda nn: nn.Softmax(dim=0), (5, 4), scale=2.0),
    LayerCase("LogSoftmax", lambda nn: nn.LogSoftmax(dim=1), (5, 4), scale=2.0),
    LayerCase("LogSoftmax-3d-dim1", lambda nn: nn.LogSoftmax(dim=1), (2, 3, 4), scale=2.0),
    # small images: in training mode the input gradient is a small difference of large terms, and with
    # 32 values per channel (4 x 4 images) central differences resolve it only to ~1.5e-8, above
    # gradcheck's atol; autograd (test_parity_modules) checks the formula on any size
    LayerCase("BatchNorm2d-train", lambda nn: nn.BatchNorm2d(3), (2, 3, 3, 3)),
    LayerCase("BatchNorm2d-eval", lambda nn: nn.BatchNorm2d(3), (2, 3, 3, 3), train=False),
    LayerCase("BatchNorm2d-cumulative-noaffine", lambda nn: nn.BatchNorm2d(3, momentum=None, affine=False),
              (2, 3, 3, 3)),
    LayerCase("LayerNorm", lambda nn: nn.LayerNorm(4), (6, 4), scale=2.0),
    LayerCase("LayerNorm-3d", lambda nn: nn.LayerNorm(4), (2, 3, 4), scale=2.0),
    LayerCase("LayerNorm-shape-2d", lambda nn: nn.LayerNorm((3, 4), eps=1e-3), (2, 3, 4), scale=2.0),
    LayerCase("LayerNorm-eval", lambda nn: nn.LayerNorm(5), (6, 5), train=False),
    LayerCase("LayerNorm-noaffine", lambda nn: nn.LayerNorm(4, elementwise_affine=False), (6, 4)),
    LayerCase("LayerNorm-nobias", lambda nn: nn.LayerNorm(4, bias=False), (6, 4)),
    # sequences: (T, B, features), batch_first (B, T, features), unbatched (T, features); states drawn
    # non-zero, biases too (randomize_state_); "unbatched" cases have no replicated form
    LayerCase("Embedding", lambda nn: nn.Embedding(7, 4), (3, 5), indices=7),
    LayerCase("Embedding-padding", lambda nn: nn.Embedding(7, 4, padding_idx=-2), (4, 6), indices=7),
    LayerCase("Embedding-scale_grad-padding", lambda nn: nn.Embedding(7, 4, padding_idx=0, scale_grad_by_freq=True),
              (4, 6), indices=7),
    LayerCase("Embedding-max_norm", lambda nn: nn.Embedding(7, 4, max_norm=1.5), (3, 5), indices=7),
    LayerCase("Embedding-max_norm-1", lambda nn: nn.Embedding(7, 4, max_norm=1.0, norm_type=1.0), (3, 5), indices=7),
    LayerCase("RNN", lambda nn: nn.RNN(3, 4), (5, 2, 3)),
    LayerCase("RNN-relu-h0", lambda nn: nn.RNN(3, 4, nonlinearity="relu"), (5, 2, 3), extra=_states((1, 2, 4))),
    LayerCase("RNN-2layers-bidirectional-batch_first-h0", lambda nn: nn.RNN(
        3, 4, num_layers=2, bidirectional=True, batch_first=True), (2, 5, 3), extra=_states((4, 2, 4))),
    LayerCase("RNN-3layers-dropout-eval", lambda nn: nn.RNN(3, 4, num_layers=3, dropout=0.5), (4, 2, 3), train=False),
    LayerCase("RNN-nobias-unbatched-h0", lambda nn: nn.RNN(3, 4, bias=False), (5, 3), extra=_states((1, 4))),
    LayerCase("LSTM", lambda nn: nn.LSTM(3, 4), (5, 2, 3)),
    LayerCase("LSTM-h0c0", lambda nn: nn.LSTM(3, 4), (5, 2, 3), extra=_states((1, 2, 4), (1, 2, 4))),
    LayerCase("LSTM-3layers-proj-h0c0", lambda nn: nn.LSTM(3, 4, num_layers=3, proj_size=2), (4, 2, 3),
              extra=_states((3, 2, 2), (3, 2, 4))),
    LayerCase("LSTM-2layers-bidirectional-batch_first-proj-h0c0", lambda nn: nn.LSTM(
        3, 4, num_layers=2, bidirectional=True, batch_first=True, proj_size=3), (2, 4, 3),
        extra=_states((4, 2, 3), (4, 2, 4))),
    LayerCase("LSTM-bidirectional-nobias", lambda nn: nn.LSTM(3, 4, bidirectional=True, bias=False), (4, 2, 3)),
    LayerCase("LSTM-2layers-dropout-eval", lambda nn: nn.LSTM(3, 4, num_layers=2, dropout=0.5), (4, 2, 3),
              train=False),
    # training mode: torch's dropout draws between the layers (one mask: a replicated LSTM draws what
    # R separate ones draw, replica by replica)
    LayerCase("LSTM-2layers-dropout-train", lambda nn: nn.LSTM(3, 4, num_layers=2, dropout=0.3), (4, 2, 3)),
    LayerCase("LSTM-2layers-dropout0-train", lambda nn: nn.LSTM(3, 4, num_layers=2, dropout=0.0), (4, 2, 3)),
    LayerCase("LSTM-nobias-unbatched-h0c0", lambda nn: nn.LSTM(3, 4, bias=False), (5, 3),
              extra=_states((1, 4), (1, 4))),
    LayerCase("LSTM-batch_first-unbatched", lambda nn: nn.LSTM(3, 4, batch_first=True, num_layers=2), (5, 3)),
    LayerCase("GRU", lambda nn: nn.GRU(3, 4), (5, 2, 3)),
    LayerCase("GRU-2layers-bidirectional-h0", lambda nn: nn.GRU(3, 4, num_layers=2, bidirectional=True), (4, 2, 3),
              extra=_states((4, 2, 4))),
    LayerCase("GRU-batch_first-nobias-h0", lambda nn: nn.GRU(3, 4, batch_first=True, bias=False), (2, 4, 3),
              extra=_states((1, 2, 4))),
    LayerCase("GRU-2layers-dropout-train", lambda nn: nn.GRU(3, 4, num_layers=2, dropout=0.4), (4, 2, 3)),
    LayerCase("GRU-unbatched-h0", lambda nn: nn.GRU(3, 4, num_layers=2), (5, 3), extra=_states((2, 4))),
    LayerCase("RNNCell", lambda nn: nn.RNNCell(3, 4), (2, 3), extra=_states((2, 4))),
    LayerCase("RNNCell-relu-nohx", lambda nn: nn.RNNCell(3, 4, nonlinearity="relu"), (2, 3)),
    LayerCase("RNNCell-nobias-unbatched", lambda nn: nn.RNNCell(3, 4, bias=False), (3,), extra=_states((4,))),
    LayerCase("LSTMCell", lambda nn: nn.LSTMCell(3, 4), (2, 3), extra=_states((2, 4), (2, 4))),
    LayerCase("LSTMCell-nohx", lambda nn: nn.LSTMCell(3, 4), (2, 3)),
    LayerCase("LSTMCell-nobias-unbatched", lambda nn: nn.LSTMCell(3, 4, bias=False), (3,), extra=_states((4,), (4,))),
    LayerCase("GRUCell", lambda nn: nn.GRUCell(3, 4), (2, 3), extra=_states((2, 4))),
    LayerCase("GRUCell-nohx-nobias", lambda nn: nn.GRUCell(3, 4, bias=False), (2, 3)),
    LayerCase("GRUCell-unbatched", lambda nn: nn.GRUCell(3, 4), (3,), extra=_states((4,))),
    # zero-size batches, which torch takes: empty outputs, zero parameter gradients
    LayerCase("Linear-empty", lambda nn: nn.Linear(4, 3), (0, 4)),
    LayerCase("BatchNorm1d-train-empty", lambda nn: nn.BatchNorm1d(4), (0, 4)),
    LayerCase("BatchNorm1d-train-empty-3d-cumulative", lambda nn: nn.BatchNorm1d(4, momentum=None), (0, 4, 3)),
    LayerCase("BatchNorm2d-train-empty", lambda nn: nn.BatchNorm2d(3), (0, 3, 2, 2)),
    LayerCase("BatchNorm1d-eval-empty", lambda nn: nn.BatchNorm1d(4), (0, 4), train=False),
    LayerCase("LayerNorm-empty", lambda nn: nn.LayerNorm(4), (0, 4)),
    LayerCase("Conv2d-empty", lambda nn: nn.Conv2d(3, 4, 3), (0, 3, 5, 5)),
    LayerCase("MaxPool2d-empty", lambda nn: nn.MaxPool2d(2), (0, 2, 4, 4)),
    LayerCase("AvgPool2d-empty", lambda nn: nn.AvgPool2d(2), (0, 2, 4, 4)),
    LayerCase("Sequential-empty", lambda nn: nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Dropout(0.3),
                                                           nn.Linear(6, 3), nn.Softmax(dim=-1)), (0, 4)),
]

# Attention: E = 4 features, H = 2 heads, L = 3 queries, S = 4 keys (self-attention: S = L), N = 2.
def _layer(nn, **kwargs):
    return nn.TransformerEncoderLayer(4, 2, **{"dim_feedforward": 8, "dropout": 0.0, **kwargs})


def _encoder(nn, **kwargs):
    return nn.TransformerEncoder(_layer(nn, **kwargs), 2, norm=nn.LayerNorm(4), enable_nested_tensor=False)


LAYER_CASES += [
    LayerCase("TransformerEncoderLayer", lambda nn: _layer(nn), (3, 2, 4), replicable=False),
    LayerCase("TransformerEncoderLayer-dropout", lambda nn: _layer(nn, dropout=0.3), (3, 2, 4), replicable=False),
    LayerCase("TransformerEncoderLayer-eval", lambda nn: _layer(nn, dropout=0.3), (3, 2, 4), train=False,
              replicable=False),
    LayerCase("TransformerEncoderLayer-gelu-norm_first", lambda nn: _layer(nn, activation="gelu", norm_first=True,
                                                                           dropout=0.2), (3, 2, 4), replicable=False),
    LayerCase("TransformerEncoderLayer-F.gelu-batch_first", lambda nn: _layer(nn, activation=F.gelu,
                                                                              batch_first=True), (2, 3, 4),
              replicable=False),
    LayerCase("TransformerEncoderLayer-GELU-tanh-module-nobias", lambda nn: _layer(
        nn, activation=nn.GELU(approximate="tanh"), bias=False, layer_norm_eps=1e-3), (3, 2, 4), replicable=False),
    LayerCase("TransformerEncoderLayer-norm_first-eval-unbatched", lambda nn: _layer(nn, norm_first=True, dropout=0.1),
              (3, 4), train=False, replicable=False),
    LayerCase("TransformerEncoder", lambda nn: _encoder(nn, dropout=0.1), (3, 2, 4), replicable=False),
    LayerCase("TransformerEncoder-norm_first-batch_first", lambda nn: nn.TransformerEncoder(
        _layer(nn, norm_first=True, batch_first=True, activation="gelu"), 2), (2, 3, 4), replicable=False),
]


def _pattern(*shape: int) -> torch.Tensor:
    """A boolean mask, True at about a third of the positions and never at every key of a row (even
    together with another such mask): True where the sum of the indices is 2 mod 3."""
    total = sum(torch.arange(n).view([n if d == i else 1 for d in range(len(shape))]) for i, n in enumerate(shape))
    return total % 3 == 2


def _float(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A float mask of the same shape: values to add to the scores (of order 1)."""
    return torch.randn(mask.shape, generator=torch.Generator().manual_seed(5)).to(dtype)


def _masks(attn: str = "", padding: str = "", heads: int = 2, n: int = 2, tgt: int = 3, src: int = 4,
           unbatched: bool = False, **flags: Any) -> Callable[[torch.dtype], dict]:
    """forward's keyword arguments: attn "bool2d" / "float2d" / "bool3d" / "float3d" / "causal-bool" /
    "causal-float"; padding "bool" / "float"; then flags such as need_weights=False."""
    def make(dtype: torch.dtype) -> dict:
        kwargs = dict(flags)
        if attn:
            kind, _, dims = attn.partition("-") if attn.startswith("causal") else (attn[:-2], "", attn[-2:])
            if kind == "causal":
                mask = torch.ones(tgt, src, dtype=torch.bool).triu(1)
                kind = dims
            else:
                mask = _pattern(tgt, src) if dims == "2d" else _pattern((1 if unbatched else n) * heads, tgt, src)
            kwargs["attn_mask"] = mask if kind == "bool" else _float(mask, dtype).masked_fill(mask, float("-inf"))
        if padding:
            mask = _pattern(src) if unbatched else _pattern(n, src)
            kwargs["key_padding_mask"] = mask if padding == "bool" else _float(mask, dtype)
        return kwargs
    return make


def _mha_case(id: str, tie: str = "", ctor: dict | None = None, masks: dict | None = None, train: bool = True,
              unbatched: bool = False) -> CallCase:
    ctor = ctor or {}
    batch_first = ctor.get("batch_first", False) and not unbatched
    tgt, src = 3, (3 if tie == "qkv" else 4)

    def shape(length: int, features: int) -> tuple[int, ...]:
        return (length, features) if unbatched else (2, length, features) if batch_first else (length, 2, features)

    q, k, v = shape(tgt, 4), shape(src, ctor.get("kdim", 4)), shape(src, ctor.get("vdim", 4))
    shapes = {"qkv": (q,), "kv": (q, k)}.get(tie, (q, k, v))
    return CallCase(f"MHA-{id}", lambda nn: nn.MultiheadAttention(4, 2, **ctor), shapes,
                    _masks(tgt=tgt, src=src, unbatched=unbatched, **(masks or {})), tie=tie, train=train)


_BOTH = {"bias_kv": {"add_bias_kv": True, "add_zero_attn": True}}
MHA_CASES = [
    _mha_case("self", "qkv"),
    _mha_case("self-batch_first", "qkv", {"batch_first": True}),
    _mha_case("cross", ""),
    _mha_case("cross-batch_first-per-head", "", {"batch_first": True}, {"average_attn_weights": False}),
    _mha_case("kv-tied", "kv"),
    _mha_case("kdim-vdim", "", {"kdim": 5, "vdim": 6}),
    _mha_case("kdim-vdim-batch_first-masks", "", {"kdim": 5, "vdim": 3, "batch_first": True},
              {"attn": "float3d", "padding": "float"}),
    _mha_case("nobias", "qkv", {"bias": False}),
    _mha_case("bias_kv", "", {"add_bias_kv": True}),
    _mha_case("zero_attn", "kv", {"add_zero_attn": True}),
    _mha_case("bias_kv-zero_attn-masks", "", _BOTH["bias_kv"], {"attn": "bool2d", "padding": "bool"}),
    _mha_case("bias_kv-zero_attn-float-masks-no-weights", "", _BOTH["bias_kv"],
              {"attn": "float3d", "padding": "float", "need_weights": False}),
    _mha_case("dropout", "qkv", {"dropout": 0.3}),
    _mha_case("dropout-cross-no-weights", "", {"dropout": 0.3}, {"need_weights": False}),
    _mha_case("dropout-batch_first-masks", "qkv", {"dropout": 0.5, "batch_first": True},
              {"attn": "bool2d", "padding": "bool"}),
    _mha_case("dropout-eval", "qkv", {"dropout": 0.3}, train=False),
    _mha_case("attn-bool2d", "", masks={"attn": "bool2d"}),
    _mha_case("attn-float2d", "", masks={"attn": "float2d"}),
    _mha_case("attn-bool3d", "", masks={"attn": "bool3d"}),
    _mha_case("attn-float3d-per-head", "", masks={"attn": "float3d", "average_attn_weights": False}),
    _mha_case("padding-bool", "", masks={"padding": "bool"}),
    _mha_case("padding-float", "kv", masks={"padding": "float"}),
    _mha_case("padding-bool-attn-float-mixed", "", masks={"attn": "float2d", "padding": "bool"}),
    _mha_case("both-bool-no-weights", "qkv", masks={"attn": "bool3d", "padding": "bool", "need_weights": False}),
    _mha_case("both-float-no-weights", "", masks={"attn": "float2d", "padding": "float", "need_weights": False}),
    _mha_case("no-weights", "qkv", masks={"need_weights": False}),
    _mha_case("causal-no-weights", "qkv", masks={"attn": "causal-bool", "is_causal": True, "need_weights": False}),
    _mha_case("causal-float-padding", "qkv", masks={"attn": "causal-float", "padding": "bool", "is_causal": True,
                                                     "need_weights": False}),
    _mha_case("causal-weights", "qkv", {"batch_first": True}, {"attn": "causal-bool", "is_causal": True}),
    _mha_case("causal-bias_kv-zero_attn", "qkv", _BOTH["bias_kv"],
              {"attn": "causal-bool", "is_causal": True, "need_weights": False}),
    _mha_case("unbatched-self", "qkv", unbatched=True),
    _mha_case("unbatched-cross-masks-per-head", "", {"batch_first": True},
              {"attn": "bool3d", "padding": "float", "average_attn_weights": False}, unbatched=True),
    _mha_case("unbatched-bias_kv-no-weights", "kv", _BOTH["bias_kv"],
              {"attn": "float2d", "padding": "bool", "need_weights": False}, unbatched=True),
]


def _layer_masks(**kw: Any) -> Callable[[torch.dtype], dict]:
    """TransformerEncoder(Layer)'s names for the masks: src_mask (mask for the encoder), src_key_padding_mask."""
    encoder = kw.pop("encoder", False)
    make = _masks(tgt=3, src=3, **kw)

    def rename(dtype: torch.dtype) -> dict:
        kwargs = make(dtype)
        renamed = {"attn_mask": "mask" if encoder else "src_mask", "key_padding_mask": "src_key_padding_mask"}
        return {renamed.get(k, k): v for k, v in kwargs.items()}
    return rename


ENCODER_CASES = [
    CallCase("TransformerEncoderLayer-masks-bool", lambda nn: _layer(nn, dropout=0.2), ((3, 2, 4),),
             _layer_masks(attn="bool2d", padding="bool")),
    CallCase("TransformerEncoderLayer-masks-float-norm_first", lambda nn: _layer(nn, norm_first=True, activation="gelu"),
             ((3, 2, 4),), _layer_masks(attn="float3d", padding="float")),
    CallCase("TransformerEncoderLayer-causal-batch_first", lambda nn: _layer(nn, batch_first=True, dropout=0.1),
             ((2, 3, 4),), _layer_masks(attn="causal-bool", is_causal=True)),
    CallCase("TransformerEncoderLayer-unbatched-masks", lambda nn: _layer(nn), ((3, 4),),
             _layer_masks(attn="bool2d", padding="bool", unbatched=True)),
    CallCase("TransformerEncoderLayer-eval-masks", lambda nn: _layer(nn, dropout=0.2, batch_first=True), ((2, 3, 4),),
             _layer_masks(attn="float2d", padding="bool"), train=False),
    CallCase("TransformerEncoder-masks", lambda nn: _encoder(nn, dropout=0.1), ((3, 2, 4),),
             _layer_masks(attn="bool2d", padding="bool", encoder=True)),
    CallCase("TransformerEncoder-causal-detected", lambda nn: _encoder(nn, batch_first=True), ((2, 3, 4),),
             _layer_masks(attn="causal-float", encoder=True)),
    CallCase("TransformerEncoder-causal-hint-eval", lambda nn: _encoder(nn, norm_first=True), ((3, 2, 4),),
             _layer_masks(attn="causal-bool", is_causal=True, encoder=True), train=False),
]

CALL_CASES = MHA_CASES + ENCODER_CASES


def call_params(cases=CALL_CASES):
    return [pytest.param(c, id=c.id) for c in cases]


LOSS_CASES = [
    LossCase("MSE", lambda nn: nn.MSELoss(), (5, 3), _same),
    LossCase("MSE-sum", lambda nn: nn.MSELoss(reduction="sum"), (5, 3), _same),
    LossCase("L1", lambda nn: nn.L1Loss(), (5, 3), _same),
    LossCase("L1-sum", lambda nn: nn.L1Loss(reduction="sum"), (5, 3), _same),
    LossCase("Huber", lambda nn: nn.HuberLoss(), (5, 3), _same, scale=2.0),
    LossCase("Huber-0.5-sum", lambda nn: nn.HuberLoss(reduction="sum", delta=0.5), (5, 3), _same, scale=2.0),
    LossCase("Huber-2.5", lambda nn: nn.HuberLoss(delta=2.5), (5, 3), _same, scale=3.0),
    LossCase("CE", lambda nn: nn.CrossEntropyLoss(), (6, 4), _classes, scale=2.0),
    LossCase("CE-sum", lambda nn: nn.CrossEntropyLoss(reduction="sum"), (6, 4), _classes, scale=2.0),
    LossCase("CE-weight", lambda nn: nn.CrossEntropyLoss(weight=_class_weight()), (6, 4), _classes, scale=2.0),
    LossCase("CE-weight-sum", lambda nn: nn.CrossEntropyLoss(weight=_class_weight(), reduction="sum"),
             (6, 4), _classes, scale=2.0),
    LossCase("CE-smoothing", lambda nn: nn.CrossEntropyLoss(label_smoothing=0.1), (6, 4), _classes, scale=2.0),
    LossCase("CE-smoothing-sum", lambda nn: nn.CrossEntropyLoss(reduction="sum", label_smoothing=0.3),
             (6, 4), _classes, scale=2.0),
    LossCase("CE-weight-smoothing", lambda nn: nn.CrossEntropyLoss(weight=_class_weight(), label_smoothing=0.2),
             (6, 4), _classes, scale=2.0),
    LossCase("CE-weight-smoothing-sum", lambda nn: nn.CrossEntropyLoss(
        weight=_class_weight(), reduction="sum", label_smoothing=0.2), (6, 4), _classes, scale=2.0),
    LossCase("CE-probs", lambda nn: nn.CrossEntropyLoss(), (6, 4), _probabilities, scale=2.0),
    LossCase("CE-probs-sum", lambda nn: nn.CrossEntropyLoss(reduction="sum"), (6, 4), _probabilities, scale=2.0),
    LossCase("CE-probs-weight-smoothing", lambda nn: nn.CrossEntropyLoss(
        weight=_class_weight(), label_smoothing=0.15), (6, 4), _probabilities, scale=2.0),
    LossCase("NLL", lambda nn: nn.NLLLoss(), (6, 4), _classes, scale=2.0),
    LossCase("NLL-sum", lambda nn: nn.NLLLoss(reduction="sum"), (6, 4), _classes, scale=2.0),
    LossCase("NLL-weight", lambda nn: nn.NLLLoss(weight=_class_weight()), (6, 4), _classes, scale=2.0),
    LossCase("NLL-weight-sum", lambda nn: nn.NLLLoss(weight=_class_weight(), reduction="sum"), (6, 4), _classes,
             scale=2.0),
    LossCase("BCEWithLogits", lambda nn: nn.BCEWithLogitsLoss(), (5, 4), _binary, scale=3.0),
    LossCase("BCEWithLogits-sum", lambda nn: nn.BCEWithLogitsLoss(reduction="sum"), (5, 4), _binary, scale=3.0),
    LossCase("BCEWithLogits-weight", lambda nn: nn.BCEWithLogitsLoss(weight=_class_weight()), (5, 4), _binary,
             scale=3.0),
    LossCase("BCEWithLogits-pos_weight", lambda nn: nn.BCEWithLogitsLoss(pos_weight=_class_weight() * 2),
             (5, 4), _binary, scale=3.0),
    LossCase("BCEWithLogits-both-sum", lambda nn: nn.BCEWithLogitsLoss(
        weight=_class_weight(), pos_weight=_class_weight() + 1, reduction="sum"), (5, 4), _binary, scale=3.0),
    # reduction="none": one loss per element (per row for CrossEntropy); backward needs grad_output
    LossCase("MSE-none", lambda nn: nn.MSELoss(reduction="none"), (5, 3), _same),
    LossCase("L1-none", lambda nn: nn.L1Loss(reduction="none"), (5, 3), _same),
    LossCase("Huber-1.5-none", lambda nn: nn.HuberLoss(reduction="none", delta=1.5), (5, 3), _same, scale=2.0),
    LossCase("BCEWithLogits-both-none", lambda nn: nn.BCEWithLogitsLoss(
        weight=_class_weight(), pos_weight=_class_weight() + 1, reduction="none"), (5, 4), _binary, scale=3.0),
    LossCase("CE-none", lambda nn: nn.CrossEntropyLoss(reduction="none"), (6, 4), _classes, scale=2.0),
    LossCase("CE-weight-smoothing-none", lambda nn: nn.CrossEntropyLoss(
        weight=_class_weight(), reduction="none", label_smoothing=0.2), (6, 4), _classes, scale=2.0),
    LossCase("CE-probs-weight-none", lambda nn: nn.CrossEntropyLoss(weight=_class_weight(), reduction="none"),
             (6, 4), _probabilities, scale=2.0),
    LossCase("NLL-none", lambda nn: nn.NLLLoss(reduction="none"), (6, 4), _classes, scale=2.0),
    LossCase("NLL-weight-none", lambda nn: nn.NLLLoss(weight=_class_weight(), reduction="none"), (6, 4), _classes,
             scale=2.0),
    # ignore_index: rows whose target is ignored count nowhere
    LossCase("CE-ignore", lambda nn: nn.CrossEntropyLoss(), (6, 4), _classes_some_ignored, scale=2.0),
    LossCase("CE-ignore-sum", lambda nn: nn.CrossEntropyLoss(reduction="sum"), (6, 4), _classes_some_ignored,
             scale=2.0),
    LossCase("CE-ignore-none", lambda nn: nn.CrossEntropyLoss(reduction="none"), (6, 4), _classes_some_ignored,
             scale=2.0),
    LossCase("CE-ignore-weight-smoothing", lambda nn: nn.CrossEntropyLoss(
        weight=_class_weight(), label_smoothing=0.2), (6, 4), _classes_some_ignored, scale=2.0),
    LossCase("CE-ignore-smoothing-sum", lambda nn: nn.CrossEntropyLoss(reduction="sum", label_smoothing=0.1),
             (6, 4), _classes_some_ignored, scale=2.0),
    LossCase("CE-ignore_index-1", lambda nn: nn.CrossEntropyLoss(ignore_index=1), (6, 4), _classes_often_1,
             scale=2.0),
    LossCase("CE-ignore_index-1-weight", lambda nn: nn.CrossEntropyLoss(weight=_class_weight(), ignore_index=1),
             (6, 4), _classes_often_1, scale=2.0),
    LossCase("NLL-ignore", lambda nn: nn.NLLLoss(), (6, 4), _classes_some_ignored, scale=2.0),
    LossCase("NLL-ignore-weight-none", lambda nn: nn.NLLLoss(weight=_class_weight(), reduction="none"), (6, 4),
             _classes_some_ignored, scale=2.0),
    LossCase("NLL-ignore_index-1-weight-sum", lambda nn: nn.NLLLoss(weight=_class_weight(), ignore_index=1,
                                                                      reduction="sum"), (6, 4), _classes_often_1,
             scale=2.0),
    # torch's K-dimensional layout: input (N, C, d1, ..., dK), the classes in dimension 1
    LossCase("CE-3d", lambda nn: nn.CrossEntropyLoss(), (3, 4, 5), _classes_dim1, scale=2.0, replicable=False),
    LossCase("CE-4d-probs", lambda nn: nn.CrossEntropyLoss(), (5, 4, 3, 2), _probabilities_dim1, scale=2.0,
             replicable=False),
    LossCase("CE-4d-probs-weight-smoothing-none", lambda nn: nn.CrossEntropyLoss(
        weight=_class_weight(), reduction="none", label_smoothing=0.2), (5, 4, 3, 2), _probabilities_dim1,
             scale=2.0, replicable=False),
    LossCase("CE-4d-weight-ignore-smoothing", lambda nn: nn.CrossEntropyLoss(
        weight=_class_weight(), label_smoothing=0.1), (2, 4, 3, 3), _classes_dim1_some_ignored, scale=2.0,
             replicable=False),
    LossCase("CE-3d-ignore-none", lambda nn: nn.CrossEntropyLoss(reduction="none"), (3, 4, 5),
             _classes_dim1_some_ignored, scale=2.0, replicable=False),
    LossCase("CE-3d-probs-weight-sum", lambda nn: nn.CrossEntropyLoss(weight=_class_weight(), reduction="sum"),
             (3, 4, 5), _probabilities_dim1, scale=2.0, replicable=False),
    LossCase("NLL-4d-weight-ignore", lambda nn: nn.NLLLoss(weight=_class_weight()), (2, 4, 3, 3),
             _classes_dim1_some_ignored, scale=2.0, replicable=False),
    LossCase("NLL-3d-none", lambda nn: nn.NLLLoss(reduction="none"), (3, 4, 5), _classes_dim1, scale=2.0,
             replicable=False),
    # zero-size batches (torch: "mean" of nothing is nan, "sum" 0; the gradient is empty)
    LossCase("CE-empty-sum", lambda nn: nn.CrossEntropyLoss(reduction="sum"), (0, 4), _classes),
    LossCase("CE-empty-probs-none", lambda nn: nn.CrossEntropyLoss(reduction="none"), (0, 4), _probabilities),
    LossCase("NLL-empty-weight", lambda nn: nn.NLLLoss(weight=_class_weight()), (0, 4), _classes),
    LossCase("MSE-empty-sum", lambda nn: nn.MSELoss(reduction="sum"), (0, 3), _same),
    LossCase("BCEWithLogits-empty", lambda nn: nn.BCEWithLogitsLoss(), (0, 4), _binary),
]


def loss_seed(crit, loss: torch.Tensor) -> torch.Tensor | None:
    """What ``backward`` is seeded with: nothing for a reduced loss (1, as ``loss.backward()``); for an
    unreduced one (``reduction="none"``), as torch requires, a d objective / d loss of the loss's shape."""
    if crit.reduction != "none":
        return None
    return torch.linspace(-1.0, 2.0, loss.numel(), dtype=loss.dtype).view(loss.shape)


def layer_params(cases=LAYER_CASES):
    return [pytest.param(c, id=c.id) for c in cases]


def loss_params(cases=LOSS_CASES):
    return [pytest.param(c, id=c.id) for c in cases]


_ATTENTION_MATRICES = ("proj_weight", "out_proj.", "linear1.", "linear2.")


def randomize_state_(state: Mapping[str, torch.Tensor]) -> None:
    """Give every parameter and buffer of a state_dict (its tensors alias the module's) a random value."""
    for key, t in state.items():
        if key.endswith("running_var"):
            t.uniform_(0.5, 2.0)
        elif key.endswith("num_batches_tracked"):
            t.fill_(3)
        elif t.dim() == 2 and any(name in key for name in _ATTENTION_MATRICES):
            # attention's and the transformer's matrices at the scale of their init (std 1/sqrt(fan_in)):
            # with N(0, 1) matrices the products along the layer grow the gradients to ~30, and torch's
            # own float32 gradients then differ from float64's by more than float32's absolute tolerance
            # (measured: 2e-5 on TransformerEncoderLayer with norm_first)
            t.normal_(0.0, t.shape[-1] ** -0.5)
        elif key.endswith("weight") and t.dim() == 1:
            t.uniform_(0.5, 1.5)  # BatchNorm scales and loss weights: positive, of order 1
        elif t.is_floating_point():
            t.normal_()


def build_pair(case, dtype):
    """The torch module (random state) and the mininet module loaded from it, both in ``dtype``."""
    ref = case.build(torch.nn).to(dtype)
    with torch.no_grad():
        randomize_state_(ref.state_dict())
    mod = case.build(mininet).to(dtype)
    mod.load_state_dict(ref.state_dict())
    if isinstance(case, (LayerCase, CallCase)):
        ref.train(case.train)
        mod.train(case.train)
    return ref, mod


def build_mininet(case, dtype=torch.float64):
    """A mininet module of the case with a random state, drawn without torch.nn."""
    mod = case.build(mininet).to(dtype)
    randomize_state_(mod.state_dict())
    if isinstance(case, (LayerCase, CallCase)):
        mod.train(case.train)
    return mod


def seeded(module, *inputs):
    """Run ``module(*inputs)`` from the fixed forward seed (the Dropout mask)."""
    torch.manual_seed(FORWARD_SEED)
    return module(*inputs)
