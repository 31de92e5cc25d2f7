"""docs/backprop.md runs as printed, as one script, and its claims hold."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "backprop.md"


def test_backprop_walkthrough_runs_and_its_claims_hold(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 13
    scope: dict = {}
    exec(compile("\n".join(blocks), str(DOC), "exec"), scope)  # the asserts in the blocks must hold
    sizes, m = scope["gradient_sizes"], scope["mininet"]
    sigmoid, relu, kaiming = (sizes(m.Sigmoid, scope["xavier"]), sizes(m.ReLU), sizes(m.ReLU, scope["kaiming"]))
    assert len(sigmoid) == len(relu) == len(kaiming) == 11
    # the three bullet points: about a million times smaller, orders of magnitude, about the same size
    assert sigmoid[-1] < 1e-5 * sigmoid[0]
    assert relu[-1] < 1e-2 * relu[0]
    assert 0.3 * kaiming[0] < kaiming[-1] < 3 * kaiming[0]
    assert "input layer" in capsys.readouterr().out
