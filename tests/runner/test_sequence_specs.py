"""Sequence and transformer specs: recurrent layers and a GPT trained identically on both backends,
the parity check naming a broken gate, the text data set, and text sampled from a checkpoint."""

from __future__ import annotations

import pytest
import torch
from click.testing import CliRunner

import mininet
from mininet.runner.cli import main
from mininet.runner.data.text import SHIPPED, read_text, windows
from mininet.runner.results.report import paired_stats
from mininet.runner.spec.data_sets import TextData
from mininet.runner.train import run_spec

from helpers import ROOT, load, shortened

SPECS = ROOT / "specs"


def text_spec(name: str, windows: int = 640, **fields):
    spec, base = load(SPECS / name)
    spec = spec.model_copy(update={"data": spec.data.model_copy(update={"max_windows": windows})})
    return shortened(spec, **fields), base


def verdicts(results) -> dict[str, str]:
    return {row["metric"]: row["stats"].verdict for row in paired_stats(results)}


def test_lstm_spec_in_float32_agrees_every_epoch_for_20_epochs_and_is_equivalent():
    spec, base = load(SPECS / "sequences/parity_lstm.toml")
    assert spec.dtype == "float32"
    m, t = run_spec(shortened(spec, epochs=20), ("mininet", "torch"), "auto", base)
    assert m.metrics.shape[:2] == (spec.repetitions, 20)
    # every epoch's loss and accuracy of every repetition, within torch's float32 tolerances
    torch.testing.assert_close(m.metrics, t.metrics)
    assert set(verdicts([m, t]).values()) == {"equivalent"}


def test_gpt_spec_in_float32_is_equivalent():
    spec, base = text_spec("transformer/text_gpt.toml", epochs=3, repetitions=3)
    m, t = run_spec(spec, ("mininet", "torch"), "auto", base)
    assert set(verdicts([m, t]).values()) == {"equivalent"}


def test_check_names_the_gate_whose_weight_gradient_is_wrong(monkeypatch):
    """A bug in one gate's weight gradient (its rows of weight_hh accumulate 1.5 times what they
    should): `mininet check` fails and names that gate first."""
    original = mininet.LSTM.backward

    def broken(self, *args, **kwargs):
        grad = self.weight_hh_l0.grad
        before = torch.zeros_like(self.weight_hh_l0.data) if grad is None else grad.clone()
        out = original(self, *args, **kwargs)
        H = self.hidden_size
        forget = self.weight_hh_l0.grad[H:2 * H]
        forget += 0.5 * (forget - before[H:2 * H])
        return out

    monkeypatch.setattr(mininet.LSTM, "backward", broken)
    result = CliRunner().invoke(main, ["check", str(SPECS / "sequences/text_lstm.toml")])
    assert result.exit_code == 1, result.output
    assert "first wrong gradient (nearest the loss): 1.weight_hh_l0 grad (gate f)" in result.output
    rows = {line.split("|")[1].strip(): line.split("|")[4].strip() for line in result.output.splitlines()
            if line.startswith("| 1.weight_hh_l0 grad")}
    assert rows == {"1.weight_hh_l0 grad (gate i)": "ok", "1.weight_hh_l0 grad (gate f)": "MISMATCH",
                    "1.weight_hh_l0 grad (gate g)": "ok", "1.weight_hh_l0 grad (gate o)": "ok"}


@pytest.mark.parametrize("name", ["sequences/parity_lstm.toml", "sequences/parity_gru.toml",
                                  "sequences/text_lstm.toml", "transformer/text_gpt.toml"])
def test_check_passes_on_every_sequence_example(name):
    result = CliRunner().invoke(main, ["check", str(SPECS / name)])
    assert result.exit_code == 0, result.output
    assert "parity check passed" in result.output


# --------------------------------------------------------------------------- the text data set
def test_text_windows_predict_the_next_character():
    spec = TextData(context=16, test_fraction=0.25)
    text = read_text(spec)
    content = SHIPPED.read_text(encoding="utf-8")
    assert text.chars == "".join(sorted(set(content))) and text.decode(text.tokens) == content
    xtr, ytr, xte, yte = windows(spec, text)
    n = (len(content) - 1) // 16
    assert len(xtr) + len(xte) == n and len(xte) == round(n * 0.25)
    assert text.decode(xtr[0]) == content[:16] and text.decode(ytr[0]) == content[1:17]
    assert text.decode(xte[0]) == content[16 * len(xtr): 16 * len(xtr) + 16]  # the test text follows
    assert torch.equal(xtr[1:, 0], ytr[:-1, -1])  # windows do not overlap: each starts where the last ended


def test_text_file_problems_are_spec_errors(tmp_path):
    spec = (SPECS / "sequences/text_lstm.toml").read_text()
    (tmp_path / "short.txt").write_text("abc")
    for path, message in [("missing.txt", "file not found"), ("short.txt", "too short for two windows")]:
        (tmp_path / "spec.toml").write_text(spec.replace('type = "text"', f'type = "text"\npath = "{path}"'))
        result = CliRunner().invoke(main, ["validate", str(tmp_path / "spec.toml")])
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


# --------------------------------------------------------------------------- sampling
@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Each text spec trained for one short epoch on mininet; its checkpoint."""
    out = {}
    for name in ("sequences/text_lstm.toml", "transformer/text_gpt.toml"):
        folder = tmp_path_factory.mktemp("run")
        result = CliRunner().invoke(main, ["run", str(SPECS / name), "--set", "data.max_windows=192",
                                           "--set", "train.epochs=1", "--out", str(folder / "run")])
        assert result.exit_code == 0, result.output
        out[name] = next((folder / "run" / "checkpoints").rglob("mininet-0.pt"))
    return out


@pytest.mark.parametrize("name", ["sequences/text_lstm.toml", "transformer/text_gpt.toml"])
def test_both_backends_sample_the_same_text_in_float64(checkpoints, name):
    args = ["sample", str(checkpoints[name]), "--prompt", "Alice ", "--length", "60", "--dtype", "float64"]
    texts = {}
    for backend in ("mininet", "torch"):
        result = CliRunner().invoke(main, args + ["--backend", backend])
        assert result.exit_code == 0, result.output
        texts[backend] = result.output.rstrip("\n")
    assert texts["mininet"] == texts["torch"]
    assert texts["mininet"].startswith("Alice ") and len(texts["mininet"]) == len("Alice ") + 60
    both = CliRunner().invoke(main, args)  # --backend all
    assert "the backends' texts are identical" in both.output


def test_sampling_repeats_with_its_seed_and_changes_with_another(checkpoints):
    args = ["sample", str(checkpoints["sequences/text_lstm.toml"]), "--backend", "mininet", "--length", "40"]
    first, again, other = (CliRunner().invoke(main, args + ["--seed", s]).output for s in ("1", "1", "2"))
    assert first == again and first != other


@pytest.mark.parametrize("args,message", [
    (["--prompt", "\u00e9t\u00e9"], "characters not in the text's vocabulary"),
    (["--prompt", ""], "the prompt is empty"),
    (["--temperature", "-1"], "-1"),
])
def test_bad_sampling_options_are_one_clear_error(checkpoints, args, message):
    result = CliRunner().invoke(main, ["sample", str(checkpoints["sequences/text_lstm.toml"]), *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_sampling_a_model_of_other_data_says_so(tmp_path):
    result = CliRunner().invoke(main, ["run", str(SPECS / "sequences/parity_lstm.toml"), "--set", "train.epochs=1",
                                       "--set", "repetitions=1", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    ckpt = next((tmp_path / "run" / "checkpoints").rglob("mininet-0.pt"))
    result = CliRunner().invoke(main, ["sample", str(ckpt)])
    assert result.exit_code == 2 and "sampling needs a model of text data" in result.output
