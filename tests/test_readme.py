"""The README's training loop runs as printed, with mininet and, with its three noted edits, torch.nn."""

from __future__ import annotations

import re
from pathlib import Path

import torch

README = Path(__file__).resolve().parents[1] / "README.md"


def _loop_source() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    (loop,) = [b for b in blocks if "model.backward(criterion.backward())" in b]
    return loop


def _torch_version(src: str) -> str:
    src = src.replace("import mininet as nn ", "from torch import nn ")
    src = src.replace("from mininet.optim import SGD ", "from torch.optim import SGD ")
    src = src.replace("with torch.inference_mode():", "if True:")
    src = src.replace("model.backward(criterion.backward())", "loss.backward()")
    return src.replace("    accuracy = (model(x)", "    accuracy = (model(x).detach()")


def _run(src: str) -> dict:
    scope: dict = {}
    exec(compile(src, str(README), "exec"), scope)
    return scope


def test_readme_loop_trains_with_mininet_and_matches_torch_nn(capsys):
    mininet_run = _run(_loop_source())
    torch_run = _run(_torch_version(_loop_source()))
    assert "torch.nn" in type(torch_run["model"]).__module__
    assert type(mininet_run["model"]).__module__.startswith("mininet")
    assert mininet_run["accuracy"] > 0.9
    # same seed, same initial weights (mininet.Linear draws as torch.nn.Linear), same batches:
    # float32 cross entropy agrees to rounding after 500 steps
    for k, v in torch_run["model"].state_dict().items():
        torch.testing.assert_close(mininet_run["model"].state_dict()[k], v.detach(), rtol=1e-3, atol=1e-4)
    assert "train accuracy" in capsys.readouterr().out
