"""mininet: neural-network modules with hand-written backward passes, torch.nn's API and numbers.

    from mininet import Linear, ReLU, Sequential, CrossEntropyLoss
    from mininet.optim import SGD
"""

from . import init, optim, testing
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .attention import MultiheadAttention
from .container import ModuleList, Sequential
from .conv import Conv2d
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten
from .linear import Identity, Linear
from .loss import BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .parameter import Parameter
from .pooling import AvgPool2d, MaxPool2d
from .rnn import GRU, LSTM, RNN
from .rnn_cell import GRUCell, LSTMCell, RNNCell
from .transformer import TransformerEncoder, TransformerEncoderLayer
from .replicas import stack_state_dicts, unstack_state_dict

__version__ = "0.1.0"

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
