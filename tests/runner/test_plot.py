"""Issue 6: `mininet plot` draws the report's Figure 2 and decision boundaries as PNG and SVG."""

from __future__ import annotations

import sys

import pytest
import torch

pytest.importorskip("matplotlib")
from matplotlib.colors import to_rgb    # noqa: E402
from matplotlib.image import imread    # noqa: E402

from mininet.runner.train.metrics import METRICS  # noqa: E402
from mininet.runner.results.plot import COLORS, DPI, PANELS, learning_curves  # noqa: E402
from mininet.runner.results.rundir import load_run  # noqa: E402

from results_helpers import compared, invoke, write_spec    # noqa: E402


def _pixels_near(image, rgb, tol=0.08) -> int:
    return int(((image[..., :3] - torch.tensor(rgb)).abs().max(-1).values < tol).sum())


def test_plot_writes_png_and_svg_of_curves_and_boundaries(tmp_path_factory, tmp_path):
    run_dir, _ = compared(tmp_path_factory)
    result = invoke("plot", run_dir, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {f"tiny-{kind}.{fmt}" for kind in ("curves", "boundary") for fmt in ("png", "svg")}
    assert result.stdout.split() == [str(tmp_path / n) for n in ("tiny-curves.png", "tiny-curves.svg",
                                                                "tiny-boundary.png", "tiny-boundary.svg")]

    curves = torch.from_numpy(imread(tmp_path / "tiny-curves.png").copy())
    assert curves.shape == (int(7.5 * DPI), 11 * DPI, 4)
    # the bold means are drawn in the report's colours: mininet red, torch.nn blue (dashed, on top)
    assert _pixels_near(curves, to_rgb(COLORS["mininet"])) > 500
    assert _pixels_near(curves, to_rgb(COLORS["torch"])) > 500
    boundary = torch.from_numpy(imread(tmp_path / "tiny-boundary.png").copy())
    assert boundary.shape[:2] == (5 * DPI, int(2 * 5.2 * DPI))
    assert (tmp_path / "tiny-curves.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "tiny-curves.png").stat().st_size > 20_000


def test_figure_has_every_repetition_faint_and_the_mean_bold(tmp_path_factory):
    run_dir, _ = compared(tmp_path_factory)
    run = load_run(run_dir)
    metrics = {r.backend: r.metrics for r in run.results}
    fig = learning_curves(metrics)
    axes = fig.axes
    assert len(axes) == 4
    for m, (row, col) in PANELS.items():
        ax = axes[2 * row + col]
        for backend, values in metrics.items():
            faint = [line for line in ax.get_lines() if line.get_gid() == f"{backend}-rep"]
            (mean,) = [line for line in ax.get_lines() if line.get_gid() == f"{backend}-mean"]
            assert len(faint) == values.shape[0] == 2
            assert all(line.get_alpha() < 0.5 for line in faint) and mean.get_linewidth() > 2
            assert to_rgb(mean.get_color()) == to_rgb(COLORS[backend])
            i = METRICS.index(m)
            assert list(mean.get_xdata()) == [1, 2, 3]
            torch.testing.assert_close(torch.tensor(mean.get_ydata(), dtype=torch.float64), values[:, :, i].mean(0))
            for k, line in enumerate(faint):
                assert list(line.get_ydata()) == values[k, :, i].tolist()


def test_compare_plot_draws_into_the_run_directory(tmp_path):
    spec = write_spec(tmp_path, repetitions=1, epochs=2, data="moons")
    result = invoke("compare", spec, "--out", tmp_path / "run", "--plot")
    assert result.exit_code == 0, result.output
    assert {p.name for p in (tmp_path / "run/figures").iterdir()} == {
        "tiny-curves.png", "tiny-curves.svg", "tiny-boundary.png", "tiny-boundary.svg"}


def test_no_boundary_figure_for_data_that_is_not_2d(tmp_path):
    spec = write_spec(tmp_path, repetitions=1, epochs=1)
    spec.write_text(spec.read_text().replace('type = "disk"', 'type = "blobs"\nfeatures = 3\ncenters = 2'))
    assert invoke("run", spec, "--out", tmp_path / "run", "--plot").exit_code == 0
    assert {p.name for p in (tmp_path / "run/figures").iterdir()} == {"tiny-curves.png", "tiny-curves.svg"}


def test_missing_matplotlib_is_a_clear_message(tmp_path_factory, monkeypatch):
    run_dir, _ = compared(tmp_path_factory)
    for name in ("matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError
    result = invoke("plot", run_dir)
    assert result.exit_code == 2
    assert "pip install 'mininet[plot]'" in result.stderr
    # --plot fails before any training, not after it
    spec = write_spec(tmp_path_factory.mktemp("noplot"))
    result = invoke("compare", spec, "--plot", "--out", spec.parent / "run")
    assert result.exit_code == 2 and "mininet[plot]" in result.stderr and result.stdout == ""
    assert not (spec.parent / "run").exists()


def test_plot_needs_a_run_directory(tmp_path):
    spec = write_spec(tmp_path)
    result = invoke("compare", spec, "--plot", "--no-save")
    assert result.exit_code == 2 and "--no-save" in result.stderr
    assert invoke("plot", tmp_path).exit_code == 2
    run_dir = tmp_path / "run"
    assert invoke("run", spec, "--out", run_dir).exit_code == 0
    result = invoke("plot", run_dir, "--repetition", "5")
    assert result.exit_code == 2 and "repetitions 0 to 1" in result.stderr
