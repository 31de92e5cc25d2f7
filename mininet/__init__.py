"""mininet: neural-network modules with hand-written backward passes, torch.nn's API and numbers.

    from mininet import Linear, ReLU, Sequential, CrossEntropyLoss
    from mininet.optim import SGD

Names load on first use (PEP 562): ``import mininet`` alone imports no torch, so that the ``mininet``
command answers ``--help`` at once; ``from mininet import Linear`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: every public name and the submodule that defines it (None: the name is a submodule)
_WHERE: dict[str, str | None] = {
    **dict.fromkeys(["init", "optim", "testing"], None),
    **dict.fromkeys(["ELU", "GELU", "LeakyReLU", "LogSoftmax", "ReLU",
                     "Sigmoid", "SiLU", "Softmax", "Softplus", "Tanh"], "activation"),
    **dict.fromkeys(["MultiheadAttention"], "attention"),
    **dict.fromkeys(["ModuleList", "Sequential"], "container"),
    **dict.fromkeys(["Conv2d"], "conv"),
    **dict.fromkeys(["Dropout"], "dropout"),
    **dict.fromkeys(["Embedding"], "embedding"),
    **dict.fromkeys(["Flatten"], "flatten"),
    **dict.fromkeys(["Identity", "Linear"], "linear"),
    **dict.fromkeys(["BCEWithLogitsLoss", "CrossEntropyLoss", "HuberLoss",
                     "L1Loss", "MSELoss", "NLLLoss"], "loss"),
    **dict.fromkeys(["Module"], "module"),
    **dict.fromkeys(["BatchNorm1d", "BatchNorm2d", "LayerNorm"], "normalization"),
    **dict.fromkeys(["Parameter"], "parameter"),
    **dict.fromkeys(["AvgPool2d", "MaxPool2d"], "pooling"),
    **dict.fromkeys(["GRU", "LSTM", "RNN"], "rnn"),
    **dict.fromkeys(["GRUCell", "LSTMCell", "RNNCell"], "rnn_cell"),
    **dict.fromkeys(["TransformerEncoder", "TransformerEncoderLayer"], "transformer"),
    **dict.fromkeys(["stack_state_dicts", "unstack_state_dict"], "replicas"),
}

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList",
    "Linear", "Identity", "Conv2d", "MaxPool2d", "AvgPool2d", "Flatten",
    "ReLU", "Tanh", "LeakyReLU", "Sigmoid", "ELU", "GELU", "Softplus", "SiLU", "Softmax", "LogSoftmax",
    "Embedding", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
    "Dropout", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder",
    "MSELoss", "L1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCEWithLogitsLoss",
    "init", "optim", "testing",
    "stack_state_dicts", "unstack_state_dict",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'mininet' has no attribute {name!r}")
    module = importlib.import_module(f".{_WHERE[name] or name}", __name__)
    value = module if _WHERE[name] is None else getattr(module, name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
