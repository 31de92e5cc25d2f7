"""Issue 4: `mininet list` is generated from the registry; `mininet schema` is the spec's JSON Schema."""

from __future__ import annotations

import json
from typing import Literal

import pytest
from click.testing import CliRunner

import mininet.runner.train  # noqa: F401  (registers both backends)
from mininet.runner.cli import main
from mininet.runner.registry import KINDS, REGISTRY, builder, spec_component
from mininet.runner.spec import Spec, Strict


def invoke(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result


def listing() -> dict[tuple[str, str], dict]:
    return {(c["kind"], c["type"]): c for c in json.loads(invoke("list", "--json").stdout)}


def test_list_names_every_registered_type_with_its_backends():
    items = listing()
    for (kind, tag), cls in REGISTRY.specs.items():
        assert (kind, tag) in items
        names = [p["name"] for p in items[(kind, tag)]["parameters"]]
        assert names == [f for f in cls.model_fields if f != "type"]
        if kind not in ("data", "init"):
            expected = sorted(b for b in REGISTRY.backends_for(kind, tag) if b != "shared")
            assert items[(kind, tag)]["backends"] == expected
    inits = {t for (b, k, t) in REGISTRY.builders if k == "init"}
    assert inits and inits <= {tag for kind, tag in items if kind == "init"}
    assert {kind for kind, _ in items} == set(KINDS) | {"spec", "model", "train"}
    top = {p["name"] for p in items[("spec", "(top level)")]["parameters"]}
    assert top == set(Spec.model_fields) - {"data", "model", "loss", "optimizer", "scheduler", "train"}
    assert [p["name"] for p in items[("train", "[train]")]["parameters"]] == ["epochs", "batch_size", "shuffle"]


def test_list_shows_parameters_defaults_and_ranges():
    text = invoke("list").stdout
    for piece in ["optimizer ([optimizer] type)", "lr: number > 0 (required)", "momentum: number in [0, 1) = 0.0",
                  "p: number in [0, 1) = 0.5", 'reduction: one of mean, sum = "mean"', "mininet, torch",
                  "out_features: integer > 0 (required)", "Weights only"]:
        assert piece in text, piece
    only_layers = invoke("list", "layer").stdout
    assert "linear" in only_layers and "sgd" not in only_layers


def test_a_new_component_is_listed_and_gone_once_removed():
    @spec_component("layer")
    class ScaleSpec(Strict):
        """Multiplies its input by ``factor`` (a test component)."""

        type: Literal["scale_for_test"] = "scale_for_test"
        factor: float = 2.5

    @builder("mininet", "layer", "scale_for_test")
    def scale(s, dtype, device):  # pragma: no cover - never built
        raise NotImplementedError

    try:
        item = listing()[("layer", "scale_for_test")]
        assert item["backends"] == ["mininet"]
        assert item["parameters"] == [{"name": "factor", "value": "number", "default": "2.5", "description": ""}]
        assert item["description"] == "Multiplies its input by ``factor`` (a test component)."
        assert "scale_for_test" in invoke("list", "layer").stdout
    finally:
        del REGISTRY.specs[("layer", "scale_for_test")]
        del REGISTRY.builders[("mininet", "layer", "scale_for_test")]
    assert ("layer", "scale_for_test") not in listing()
    assert "scale_for_test" not in invoke("list").stdout


def test_list_rejects_an_unknown_kind():
    result = CliRunner().invoke(main, ["list", "layers"])
    assert result.exit_code == 2 and "Invalid value" in result.output


def test_schema_is_the_spec_models_json_schema(tmp_path):
    schema = json.loads(invoke("schema").stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert set(schema["properties"]) == set(Spec.model_fields)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"name", "data", "model", "loss", "optimizer", "train"}
    layer_union = schema["$defs"]["ModelSpec"]["properties"]["layers"]["items"]
    assert set(layer_union["discriminator"]["mapping"]) == set(REGISTRY.types("layer"))
    out = tmp_path / "spec.schema.json"
    invoke("schema", "--output", str(out))
    assert json.loads(out.read_text()) == schema
    assert not [p for p in tmp_path.iterdir() if p.name != out.name]  # no temporary file left


@pytest.mark.parametrize("command", ["list", "schema", "validate", "render"])
def test_help_of_spec_commands(command):
    assert "Usage:" in invoke(command, "--help").stdout


def test_exit_codes_are_documented():
    text = invoke("--help").stdout
    for line in ["0  success", "1  a failure during training", "2  a bad spec or bad usage"]:
        assert line in text
