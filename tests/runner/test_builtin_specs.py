"""The built-in specs: listed by `mininet specs`, named wherever a spec file goes, copied out by
`mininet copy`; `mininet validate` takes a folder."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from mininet.runner.cli import main
from mininet.runner.spec.builtin import ROOT as BUILTIN_ROOT
from mininet.runner.spec.builtin import builtin_specs, find_builtin, resolve_spec_path

ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_every_shipped_spec_is_listed_by_name():
    names = {b.name for b in builtin_specs()}
    files = {p.relative_to(ROOT / "specs").with_suffix("").as_posix() for p in (ROOT / "specs").rglob("*.toml")}
    assert names == files and "report/ce_sgd" in names
    assert BUILTIN_ROOT.resolve() == (ROOT / "specs").resolve()  # the checkout's specs/ is the package's
    listing = invoke("specs").output
    assert "report/ce_sgd" in listing and "Report Table 1 (CrossEntropy), plain SGD" in listing


def test_a_name_resolves_unless_a_file_of_that_name_exists(tmp_path, monkeypatch):
    assert resolve_spec_path("report/ce_sgd") == find_builtin("report/ce_sgd.toml").path
    monkeypatch.chdir(tmp_path)
    (tmp_path / "report").mkdir()
    (tmp_path / "report/ce_sgd").write_text("not a spec")
    assert resolve_spec_path("report/ce_sgd") == Path("report/ce_sgd")
    assert resolve_spec_path("no/such/spec") == Path("no/such/spec")


def test_commands_take_builtin_names(tmp_path):
    result = invoke("compare", "report/ce_sgd", "--set", "train.epochs=1", "--set", "repetitions=2", "--no-save",
                    "--quiet")
    assert result.exit_code == 0, result.output
    assert "| report-ce-sgd" in result.output
    missing = invoke("validate", "report/ce_sdg")
    assert missing.exit_code == 2 and "`mininet specs` lists the built-in specs" in missing.output


def test_copy_writes_the_spec_and_its_data_and_keeps_existing_files(tmp_path):
    result = invoke("copy", "examples/csv_seeds", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "csv_seeds.toml").read_bytes() == (ROOT / "specs/examples/csv_seeds.toml").read_bytes()
    assert (tmp_path / "data/seeds.csv").read_bytes() == (ROOT / "specs/examples/data/seeds.csv").read_bytes()
    (tmp_path / "csv_seeds.toml").write_text("# my edits\n")
    refused = invoke("copy", "examples/csv_seeds", str(tmp_path))
    assert refused.exit_code == 2 and "use --force" in refused.output
    assert (tmp_path / "csv_seeds.toml").read_text() == "# my edits\n"
    assert invoke("copy", "examples/csv_seeds", str(tmp_path), "--force").exit_code == 0
    assert (tmp_path / "csv_seeds.toml").read_bytes() == (ROOT / "specs/examples/csv_seeds.toml").read_bytes()
    renamed = invoke("copy", "report/ce_sgd", str(tmp_path / "mine.toml"))
    assert renamed.exit_code == 0 and (tmp_path / "mine.toml").is_file()
    unknown = invoke("copy", "report/nope")
    assert unknown.exit_code == 2 and "no built-in spec named 'report/nope'" in unknown.output


def test_validate_takes_a_folder(tmp_path):
    result = invoke("validate", str(ROOT / "specs/report"))
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok") == 4
    empty = invoke("validate", str(tmp_path))
    assert empty.exit_code == 2 and "no .toml file" in empty.output
