"""What a TOML spec says and whether it makes sense, before anything is drawn or built.

    models      base.py (Strict, Component), data_sets.py, layers.py, losses.py, optimizers.py,
                experiment.py (Spec and the tagged unions generated from the registry)
    reading     load.py (TOML -> validated specs, every problem with key path and line),
                toml_lines.py (where each key stands), overrides.py (--set / --sweep)
    checking    checks.py (what pydantic cannot see field by field), shapes.py (one sample's shape
                through the layers: fills the sizes a spec leaves out and checks the given ones)
    writing     render.py (the spec with every default), toml_writer.py, catalog.py (mininet list)
"""

from .base import Component, Strict
from .data_sets import BarsData, BlobsData, CirclesData, CsvData, DiskData, MoonsData, SpiralsData, XorData
from .experiment import DataSpec, LayerSpec, LossSpec, ModelSpec, OptimizerSpec, SchedulerSpec, Spec, TrainSpec
from .layers import (AvgPool2dSpec, BatchNorm2dSpec, BatchNormSpec, Conv2dSpec, DropoutSpec, ELUSpec, FlattenSpec,
                     GELUSpec, IdentitySpec, InitSpec, LayerNormSpec, LeakyReLUSpec, LinearSpec, LogSoftmaxSpec,
                     MaxPool2dSpec, ReLUSpec, SigmoidSpec, SiLUSpec, SoftmaxSpec, SoftplusSpec, TanhSpec)
from .load import Loaded, Point, Problem, SpecError, load, load_all, load_points, load_spec, validate
from .losses import ONE_HOT_LOSSES, BCEWithLogitsSpec, CrossEntropySpec, HuberSpec, L1Spec, MSESpec, NLLSpec
from .optimizers import (AdagradSpec, AdamSpec, AdamWSpec, CosineAnnealingLRSpec, ExponentialLRSpec, RMSpropSpec,
                         SGDSpec, StepLRSpec)
from .shapes import resolve

__all__ = [
    "AdagradSpec", "AdamSpec", "AdamWSpec", "AvgPool2dSpec", "BarsData", "BatchNorm2dSpec", "BatchNormSpec",
    "BCEWithLogitsSpec", "BlobsData", "CirclesData", "Component", "Conv2dSpec", "CosineAnnealingLRSpec",
    "CrossEntropySpec", "CsvData", "DataSpec", "DiskData", "DropoutSpec", "ELUSpec", "ExponentialLRSpec",
    "FlattenSpec", "GELUSpec", "HuberSpec", "IdentitySpec", "InitSpec", "L1Spec", "LayerNormSpec",
    "LayerSpec", "LeakyReLUSpec", "LinearSpec", "load", "load_all", "load_points", "load_spec", "Loaded",
    "LogSoftmaxSpec", "LossSpec", "MaxPool2dSpec", "ModelSpec", "MoonsData", "MSESpec", "NLLSpec",
    "ONE_HOT_LOSSES", "OptimizerSpec", "Point", "Problem", "ReLUSpec", "resolve", "RMSpropSpec",
    "SchedulerSpec", "SGDSpec", "SigmoidSpec", "SiLUSpec", "SoftmaxSpec", "SoftplusSpec", "Spec", "SpecError",
    "SpiralsData", "StepLRSpec", "Strict", "TanhSpec", "TrainSpec", "validate", "XorData",
]
