"""Text generated from a checkpoint of a next-character model, on either backend.

The model sees at most the ``context`` characters it was trained on (a position embedding has no
row beyond them), so each new character is drawn from the output at the last position of the last
``context`` characters. Drawing is seeded and done in float64 by inverting the cumulative
probabilities with one uniform number per character: the same checkpoint, prompt and seed give the
same text on both backends wherever their probabilities agree to rounding.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..data.text import Text, read_text
from ..spec.experiment import Spec
from ..train.build import DTYPES
from .checkpoint import Checkpoint, load_model, predict, resolved


class SampleError(ValueError):
    """A checkpoint, prompt or option that text cannot be generated from."""


def text_of(spec: Spec, base_dir: Path) -> Text:
    if spec.data.type != "text":
        raise SampleError(f"sampling needs a model of text data (type = \"text\"), but {spec.name!r} was "
                          f"trained on {spec.data.type} data")
    return read_text(spec.data, base_dir)


def draw(logits: torch.Tensor, temperature: float, g: torch.Generator) -> int:
    """One token from ``softmax(logits / temperature)`` (temperature 0: the most likely one)."""
    logits = logits.to(torch.float64)
    u = torch.rand((), generator=g, dtype=torch.float64)  # drawn at every step, so that seeds line up
    if temperature == 0:
        return int(logits.argmax())
    cdf = torch.softmax(logits / temperature, -1).cumsum(-1)
    return min(int(torch.searchsorted(cdf, u * cdf[-1], right=True)), len(cdf) - 1)


def sample(checkpoint: Checkpoint, backend: str, prompt: str | None, length: int, temperature: float = 1.0,
           seed: int = 0, dtype: str | None = None) -> str:
    """``prompt`` followed by ``length`` generated characters (prompt None: the text's first character).

    ``dtype`` loads the parameters in another precision than the spec's (e.g. float64 to compare the
    backends' texts free of float32 rounding).
    """
    if temperature < 0:
        raise SampleError(f"temperature must be >= 0, got {temperature}")
    base = Path(checkpoint.base_dir)
    spec = checkpoint.spec()
    if dtype is not None:
        spec = spec.model_copy(update={"dtype": dtype})
    text = text_of(spec, base)
    if prompt is None:
        prompt = text.decode(text.tokens[:1])
    if not prompt:
        raise SampleError("the prompt is empty: give at least one character")
    try:
        tokens = text.encode(prompt)
    except ValueError as e:
        raise SampleError(f"prompt: {e}") from None
    spec = resolved(spec, base)
    model = load_model(backend, spec, {k: v.to(DTYPES[spec.dtype]) if v.is_floating_point() else v
                                       for k, v in checkpoint.state_dict.items()})
    g = torch.Generator().manual_seed(seed)
    out = tokens.tolist()
    for _ in range(length):
        window = torch.tensor(out[-spec.data.context:], dtype=torch.int64).unsqueeze(0)
        out.append(draw(predict(model, window)[0, -1], temperature, g))
    return text.decode(torch.tensor(out))
