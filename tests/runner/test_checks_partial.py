"""Layer widths are checked against each other even when the data table itself is wrong."""

from __future__ import annotations

from click.testing import CliRunner

from mininet.runner.cli import main

from test_spec_errors import LAYER2, edit


def test_width_mismatch_reported_alongside_a_bad_data_type(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(edit('type = "disk"', 'type = "disc"',
                         LAYER2, '    { type = "linear", in_features = 30, out_features = 2 },'))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"{path}:6: data.type: unknown data type 'disc' (did you mean 'disk'?)" in result.output
    assert f"{path}:15: model.layers[2].in_features: is 30, but model.layers[0] (linear) outputs 4" in result.output
