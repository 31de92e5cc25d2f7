"""Layer widths are checked against each other even when the data table itself is wrong."""

from __future__ import annotations

from click.testing import CliRunner

from runner.cli import main

SPEC = """name = "bad"
[data]
type = "disc"
[model]
layers = [
    { type = "linear", out_features = 25 },
    { type = "relu" },
    { type = "linear", in_features = 30, out_features = 2 },
]
[loss]
type = "cross_entropy"
[optimizer]
type = "sgd"
lr = 0.1
[train]
epochs = 1
batch_size = 10
"""


def test_width_mismatch_reported_alongside_a_bad_data_type(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(SPEC)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:3: data.type: unknown data type 'disc' (did you mean 'disk'?)" in result.output
    assert f"{path}:8: model.layers[2].in_features: is 30, but model.layers[0] (linear) outputs 25" in result.output
