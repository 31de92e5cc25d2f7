"""The README's code runs as printed: the training loop, with mininet and, with its three noted edits,
torch.nn; and the custom-layer example, whose gradcheck passes and fails as the README says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

README = Path(__file__).resolve().parents[1] / "README.md"


def _block(marker: str) -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    (block,) = [b for b in blocks if marker in b]
    return block


def _loop_source() -> str:
    return _block("model.backward(criterion.backward())")


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


def test_readme_custom_layer_passes_gradcheck_and_a_wrong_backward_does_not():
    src = _block("gradcheck(model")
    scope = _run(src)  # gradcheck raises on a wrong gradient
    assert type(scope["model"][1]).__name__ == "Softsign"
    wrong = src.replace("self._denom ** 2", "self._denom")
    assert wrong != src
    with pytest.raises(AssertionError, match=r"gradcheck of Sequential: d/d input differs"):
        _run(wrong)


def test_readme_new_layer_block_is_the_real_class():
    """The README shows a layer type as the one class it is: the text of the real spec class."""
    import inspect

    from mininet.runner.spec.layers import LeakyReLUSpec

    block = _block('builds = "LeakyReLU"')
    assert block == inspect.getsource(LeakyReLUSpec)  # getsource includes the decorator


# --------------------------------------------------------------------------- the README's commands
#: shorteners appended to a printed command (later options win): one epoch, two repetitions, one round
SHORT = {"compare": ["--set", "train.epochs=1", "--set", "repetitions=2", "--quiet"],
         "run": ["--set", "train.epochs=1", "--set", "repetitions=2", "--quiet"],
         "bench": ["--set", "train.epochs=1", "--set", "repetitions=2", "--repeats", "1", "--steps", "2",
                   "--no-memory"]}
PLACEHOLDER = re.compile(r"\b[A-Z][A-Z_]{2,}\b|\.\.\.|\\\|")  # SPEC, RUN_DIR, NAME, "...", a|b


def readme_commands() -> list[str]:
    """Every `mininet ...` of README.md that is a command (not a usage template), in order."""
    spans = re.findall(r"`(mininet [^`]*)`", README.read_text())
    return [" ".join(s.split()) for s in spans if not PLACEHOLDER.search(s)]


def test_every_readme_command_runs_as_printed(tmp_path, monkeypatch):
    """In the order printed, from an empty folder (the built-in spec names work anywhere; the
    examples folder and the first spec's file are put there, as a reader who follows along has them)."""
    import shlex
    import shutil

    from click.testing import CliRunner

    from mininet.runner.cli import main

    shutil.copytree(README.parent / "examples", tmp_path / "examples")
    (tmp_path / "moons.toml").write_text(
        re.search(r"```toml\n(name = \"my-moons\".*?)```", README.read_text(), flags=re.S).group(1))
    monkeypatch.chdir(tmp_path)
    commands = readme_commands()
    assert len(commands) >= 20 and "mininet compare report/ce_sgd report/ce_momentum" in commands
    ran = 0
    for command in commands:
        if "device=cuda" in command and not torch.cuda.is_available():
            continue
        args = shlex.split(command)[1:]
        short = SHORT.get(args[0], [])
        if short and any("/text_" in a for a in args):  # a text spec: a few hundred windows of it
            short = short + ["--set", "data.max_windows=320"]
        result = CliRunner().invoke(main, args + short)
        assert result.exit_code == 0, f"{command}:\n{result.output}"
        ran += 1
    assert ran >= len(commands) - 1
