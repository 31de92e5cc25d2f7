"""Issue 4: every mistake in a spec is caught before training, with its key path, TOML line and what
was expected, by `mininet validate` and by `mininet run` alike (exit 2, no traceback, nothing trained).

The corpus is one table: each case edits a small valid spec (BASE) and names the key path and line
the report must point at (line None: the problem has no line, e.g. an empty file or a --set value).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from click.testing import CliRunner

from mininet.runner.cli import main
from mininet.runner.spec.load import SpecError, load_points, load_spec
from mininet.runner.spec.toml_lines import key_lines, line_of

BASE = """\
name = "tiny"
seed = 0
repetitions = 1

[data]
type = "disk"
n_train = 40
n_test = 20

[model]
init = { weight = "xavier_normal", bias = "zeros" }
layers = [
    { type = "linear", out_features = 4 },
    { type = "relu" },
    { type = "linear", out_features = 2 },
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
LAYER0 = '    { type = "linear", out_features = 4 },'
LAYER1 = '    { type = "relu" },'
LAYER2 = '    { type = "linear", out_features = 2 },'
CSV_DATA = '[data]\ntype = "csv"\npath = "points.csv"\n'  # 3 lines, as the disk table's first 3 lines


def edit(*pairs: str, text: str = BASE) -> str:
    """BASE with each (old, new) pair replaced; every old text must occur exactly once."""
    for old, new in zip(pairs[::2], pairs[1::2]):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@dataclass
class Case:
    id: str
    text: str | bytes | None  # None: no file at all
    key: str | None  # the key path the report names
    line: int | None  # the line the report names for that key
    expect: str  # a piece of the message: what was expected, or the suggestion
    args: tuple[str, ...] = ()  # --set / --sweep options
    files: dict[str, str] = field(default_factory=dict)  # other files next to the spec


CSV3 = "a,b,c,label\n0.1,0.2,0.3,0\n0.4,0.5,0.6,1\n0.7,0.8,0.9,0\n0.2,0.1,0.0,1\n0.5,0.5,0.5,0\n"
DISK_TABLE = '[data]\ntype = "disk"\nn_train = 40\nn_test = 20\n'
PARITY_TABLE = '[data]\ntype = "parity"\nlength = 4\nn_train = 40\n'  # 4 lines, as the disk table
TEXT_TABLE = '[data]\ntype = "text"\ncontext = 8\nmax_windows = 40\n'

CASES = [
    # --- the file itself
    Case("empty-file", "", None, None, "empty file"),
    Case("only-comments", "# nothing here\n\n", None, None, "empty spec"),
    Case("missing-file", None, None, None, "file not found"),
    Case("binary-file", b"\x00\x01\x02PK\x03\x04" * 20, None, None, "binary"),
    Case("not-utf8", edit('name = "tiny"\nseed', 'name = "tiny"\ndescription = "caf\xe9"\nseed').encode("latin-1"),
         None, 2, "not UTF-8"),
    Case("toml-syntax", edit("lr = 0.1", "lr = = 0.1"), None, 23, "malformed TOML"),
    Case("toml-unclosed-string", edit('type = "disk"', 'type = "disk'), None, 6, "malformed TOML"),
    Case("toml-duplicate-key", edit("lr = 0.1", "lr = 0.1\nlr = 0.2"), None, 24, "malformed TOML"),
    Case("toml-duplicate-table", BASE + "\n[train]\nepochs = 2\n", None, 29, "malformed TOML"),
    Case("toml-bad-header", edit("[loss]", "[loss"), None, 18, "malformed TOML"),
    # --- unknown keys and types, with "did you mean" and the valid names
    Case("unknown-top-key", edit("repetitions = 1", "repetition = 1"), "repetition", 3,
         "did you mean 'repetitions'"),
    Case("unknown-train-key", edit("epochs = 1", "epoch = 1"), "train.epoch", 26, "did you mean 'epochs'"),
    Case("unknown-layer-key", edit(LAYER0, '    { type = "linear", out_features = 4, bais = true },'),
         "model.layers[0].bais", 13, "did you mean 'bias'"),
    Case("unknown-layer-type", edit(LAYER1, '    { type = "relux" },'), "model.layers[1].type", 14,
         "did you mean 'relu'"),
    Case("unknown-loss-type", edit('type = "cross_entropy"', 'type = "cross_entropi"'), "loss.type", 19,
         "did you mean 'cross_entropy'"),
    Case("unknown-optimizer-type", edit('type = "sgd"', 'type = "adan"'), "optimizer.type", 22,
         "valid types: sgd, adam"),
    Case("unknown-data-type", edit('type = "disk"', 'type = "disc"'), "data.type", 6, "did you mean 'disk'"),
    Case("unknown-init", edit('weight = "xavier_normal"', 'weight = "xavier_norml"'), "model.init.weight", 11,
         "did you mean 'xavier_normal'"),
    Case("unknown-table", BASE + "\n[trainer]\nepochs = 3\n", "trainer", 29, "valid keys here"),
    Case("unknown-scheduler-type", BASE + '\n[scheduler]\ntype = "cosin"\nT_max = 5\n', "scheduler.type", 30,
         "did you mean 'cosine'"),
    Case("one-cycle-too-short", BASE + '\n[scheduler]\ntype = "one_cycle"\nmax_lr = 0.5\ntotal_steps = 1\n',
         "scheduler.total_steps", 32, "the training has 3 epochs", ("--set", "train.epochs=3")),
    Case("one-cycle-no-momentum", edit('type = "sgd"', 'type = "adagrad"', text=BASE + '\n[scheduler]\n'
         'type = "one_cycle"\nmax_lr = 0.5\ntotal_steps = 1\n'), "scheduler.cycle_momentum", 29, "no momentum"),
    Case("missing-type", edit('type = "sgd"', ""), "optimizer.type", 21, "needs a type"),
    Case("missing-required", edit("lr = 0.1", ""), "optimizer.lr", 21, "required key is missing"),
    Case("missing-table", BASE.replace("[train]\nepochs = 1\nbatch_size = 10\n", ""), "train", None,
         "required key is missing"),
    # --- wrong types and ranges
    Case("lr-zero", edit("lr = 0.1", "lr = 0"), "optimizer.lr", 23, "greater than 0"),
    Case("lr-negative", edit("lr = 0.1", "lr = -0.5"), "optimizer.lr", 23, "greater than 0, got -0.5"),
    Case("lr-string", edit("lr = 0.1", 'lr = "fast"'), "optimizer.lr", 23, 'must be a number, got "fast"'),
    Case("lr-inf", edit("lr = 0.1", "lr = inf"), "optimizer.lr", 23, "finite"),
    Case("momentum-one", edit("lr = 0.1", "lr = 0.1\nmomentum = 1.0"), "optimizer.momentum", 24, "less than 1"),
    Case("momentum-negative", edit("lr = 0.1", "lr = 0.1\nmomentum = -0.2"), "optimizer.momentum", 24,
         "greater than or equal to 0"),
    Case("epochs-zero", edit("epochs = 1", "epochs = 0"), "train.epochs", 26, "greater than 0"),
    Case("epochs-float", edit("epochs = 1", "epochs = 2.5"), "train.epochs", 26, "must be an integer"),
    Case("batch-size-zero", edit("batch_size = 10", "batch_size = 0"), "train.batch_size", 27, "greater than 0"),
    Case("shuffle-string", edit("batch_size = 10", 'batch_size = 10\nshuffle = "yes"'), "train.shuffle", 28,
         "boolean"),
    Case("dropout-p-one", edit(LAYER1, '    { type = "dropout", p = 1.0 },'), "model.layers[1].p", 14,
         "less than 1"),
    Case("dropout-p-negative", edit(LAYER1, '    { type = "dropout", p = -0.1 },'), "model.layers[1].p", 14,
         "greater than or equal to 0"),
    Case("repetitions-zero", edit("repetitions = 1", "repetitions = 0"), "repetitions", 3, "greater than 0"),
    Case("repetitions-fraction", edit("repetitions = 1", "repetitions = 1.5"), "repetitions", 3,
         "positive integer"),
    Case("repetitions-string", edit("repetitions = 1", 'repetitions = "2"'), "repetitions", 3,
         "must be an integer"),
    Case("seed-negative", edit("seed = 0", "seed = -1"), "seed", 2, "greater than or equal to 0"),
    Case("n-train-zero", edit("n_train = 40", "n_train = 0"), "data.n_train", 7, "greater than 0"),
    Case("dtype-unknown", edit("seed = 0", 'dtype = "float16"'), "dtype", 2, "float32, float64"),
    Case("name-pattern", edit('name = "tiny"', 'name = "my spec"'), "name", 1, "must match pattern"),
    Case("out-features-zero", edit(LAYER0, '    { type = "linear", out_features = 0 },'),
         "model.layers[0].out_features", 13, "greater than 0"),
    Case("no-layers", edit(LAYER0 + "\n" + LAYER1 + "\n" + LAYER2 + "\n", ""), "model.layers", 12, "at least 1"),
    Case("table-is-string", edit("repetitions = 1", 'loss = "mse"', "[loss]\ntype = \"cross_entropy\"\n", ""),
         "loss", 3, "must be a table"),
    Case("betas-length", edit('type = "sgd"\nlr = 0.1', 'type = "adam"\nbetas = [0.9]'), "optimizer.betas", 23,
         "too few values"),
    Case("label-smoothing-range", edit('type = "cross_entropy"', 'type = "cross_entropy"\nlabel_smoothing = 2'),
         "loss.label_smoothing", 20, "less than or equal to 1"),
    # --- static shape checks
    Case("first-in-features", edit(LAYER0, '    { type = "linear", in_features = 3, out_features = 4 },'),
         "model.layers[0].in_features", 13, "the data (disk) has 2 features"),
    Case("chain-in-features", edit(LAYER2, '    { type = "linear", in_features = 5, out_features = 2 },'),
         "model.layers[2].in_features", 15, "model.layers[0] (linear) outputs 4"),
    Case("last-width-cross-entropy", edit(LAYER2, '    { type = "linear", out_features = 3 },'),
         "model.layers[2].out_features", 15, "expected 2"),
    Case("last-width-mse", edit(LAYER2, '    { type = "linear", out_features = 3 },',
                                'type = "cross_entropy"', 'type = "mse"'),
         "model.layers[2].out_features", 15, "one-hot targets"),
    Case("spirals-classes", edit('type = "disk"', 'type = "spirals"\nclasses = 3'), "model.layers[2].out_features",
         16, "3 classes"),
    Case("blobs-features", edit('type = "disk"', 'type = "blobs"\nfeatures = 5',
                                LAYER0, '    { type = "linear", in_features = 2, out_features = 4 },'),
         "model.layers[0].in_features", 14, "has 5 features"),
    Case("batch-norm-width", edit(LAYER1, '    { type = "batch_norm", num_features = 5 },'),
         "model.layers[1].num_features", 14, "outputs 4"),
    # images (bars) and the layers that take them
    Case("conv-on-points", edit(LAYER0, '    { type = "conv2d", out_channels = 4, kernel_size = 3 },'),
         "model.layers[0].type", 13, "conv2d takes images (channels, height, width), but the data (disk) has 2"),
    Case("linear-on-images", edit('type = "disk"', 'type = "bars"'), "model.layers[0].type", 13,
         'but the data (bars) has images of 1 channel of 8 x 8: put a layer { type = "flatten" } before it'),
    Case("conv-kernel-too-large", edit('type = "disk"', 'type = "bars"\nsize = 4',
                                       LAYER0, '    { type = "conv2d", out_channels = 4, kernel_size = 5 },'),
         "model.layers[0].kernel_size", 14, "which does not fit: the data (bars) has images of 1 channel of 4 x 4"),
    Case("conv-in-channels", edit('type = "disk"', 'type = "bars"', LAYER0,
                                  '    { type = "conv2d", in_channels = 3, out_channels = 4, kernel_size = 3 },'),
         "model.layers[0].in_channels", 13, "is 3, but the data (bars) has images of 1 channel"),
    Case("conv-groups", edit('type = "disk"', 'type = "bars"',
                             LAYER0, '    { type = "conv2d", out_channels = 4, kernel_size = 3, groups = 3 },'),
         "model.layers[0].groups", 13, "out_channels (4) is not divisible by it"),
    Case("pool-padding", edit('type = "disk"', 'type = "bars"',
                              LAYER0, '    { type = "conv2d", out_channels = 4, kernel_size = 3 },',
                              LAYER1, '    { type = "max_pool2d", kernel_size = 2, padding = 2 },'),
         "model.layers[1].padding", 14, "at most half the kernel_size (1)"),
    Case("batch-norm2d-on-points", edit(LAYER1, '    { type = "batch_norm2d" },'), "model.layers[1].type", 14,
         "batch_norm2d takes images (channels, height, width), but model.layers[0] (linear) outputs 4"),
    Case("batch-norm2d-channels", edit('type = "disk"', 'type = "bars"',
                                       LAYER0, '    { type = "conv2d", out_channels = 4, kernel_size = 3 },',
                                       LAYER1, '    { type = "batch_norm2d", num_features = 3 },'),
         "model.layers[1].num_features", 14, "is 3, but model.layers[0] (conv2d) outputs 4 channels of 6 x 6"),
    Case("avg-pool-too-large", edit('type = "disk"', 'type = "bars"\nsize = 4',
                                    LAYER0, '    { type = "conv2d", out_channels = 2, kernel_size = 3 },',
                                    LAYER1, '    { type = "avg_pool2d", kernel_size = 3 },'),
         "model.layers[1].kernel_size", 15,
         "is 3, which does not fit: model.layers[0] (conv2d) outputs 2 channels of 2 x 2"),
    Case("model-ends-in-images", edit('type = "disk"', 'type = "bars"',
                                      LAYER0, '    { type = "conv2d", out_channels = 2, kernel_size = 3 },',
                                      LAYER2, '    { type = "max_pool2d", kernel_size = 2 },'),
         "model.layers", 12, "the model's output is images (model.layers[2] (max_pool2d) outputs 2 channels of 3 x 3)"),
    Case("nll-needs-log-softmax", edit('type = "cross_entropy"', 'type = "nll"'), "loss.type", 19,
         "ends with a linear layer: add a last layer { type = \"log_softmax\" }"),
    Case("nll-log-softmax-over-batch", edit('type = "cross_entropy"', 'type = "nll"',
                                            LAYER2, LAYER2 + '\n    { type = "log_softmax", dim = 0 },'),
         "model.layers[3].dim", 16, "is 0, the batch dimension"),
    Case("softmax-dim-range", edit(LAYER1, '    { type = "softmax", dim = 2 },'), "model.layers[1].dim", 14,
         "less than or equal to 1"),
    Case("layer-norm-width", edit(LAYER1, '    { type = "layer_norm", normalized_shape = 3 },'),
         "model.layers[1].normalized_shape", 14, "outputs 4"),
    Case("bias-init-needs-fans", edit('bias = "zeros"', 'bias = "xavier_normal"'), "model.init.bias", 11,
         "fan-in and fan-out"),
    Case("layer-bias-init", edit(LAYER0, '    { type = "linear", out_features = 4, init = { bias = "kaiming_uniform" } },'),
         "model.layers[0].init.bias", 13, "fan-in and fan-out"),
    Case("class-weights", edit('type = "cross_entropy"', 'type = "cross_entropy"\nweight = [1.0, 2.0, 3.0]'),
         "loss.weight", 20, "3 class weights"),
    Case("csv-columns", edit(DISK_TABLE, CSV_DATA + "\n",
                             LAYER0, '    { type = "linear", in_features = 2, out_features = 4 },'),
         "model.layers[0].in_features", 13, "has 3 features", files={"points.csv": CSV3}),
    Case("csv-missing", edit(DISK_TABLE, CSV_DATA + "\n"), "data.path", 7, "file not found"),
    Case("csv-bad-cell", edit(DISK_TABLE, CSV_DATA + "\n"), "data.path", 7, "line 3",
         files={"points.csv": CSV3.replace("0.4,0.5", "0.4,oops")}),
    Case("csv-label-column", edit(DISK_TABLE, CSV_DATA + 'label_column = "class"\n'), "data.label_column", 8,
         "no column named 'class'", files={"points.csv": CSV3}),
    # --- sequences, text and transformers
    Case("lstm-on-points", edit(LAYER0, '    { type = "lstm", hidden_size = 4 },'), "model.layers[0].type", 13,
         "lstm takes sequences (batch, length, features), but the data (disk) has 2 features"),
    Case("parity-needs-last-step", edit(DISK_TABLE, PARITY_TABLE, LAYER0, '    { type = "gru", hidden_size = 4 },'),
         "model.layers", 12, 'take the last step (output = "last" on the recurrent layer)'),
    Case("rnn-dropout-one-layer",
         edit(DISK_TABLE, PARITY_TABLE, LAYER0, '    { type = "rnn", hidden_size = 4, dropout = 0.5, output = "last" },'),
         "model.layers[0].dropout", 13, "num_layers"),
    Case("lstm-input-size", edit(DISK_TABLE, PARITY_TABLE,
                                 LAYER0, '    { type = "lstm", input_size = 3, hidden_size = 4, output = "last" },'),
         "model.layers[0].input_size", 13, "is 3, but the data (parity) has sequences of 4 steps of 1 feature"),
    Case("text-linear-on-tokens", edit(DISK_TABLE, TEXT_TABLE), "model.layers[0].type", 13,
         'start the model with a layer { type = "embedding" }'),
    Case("embedding-on-points", edit(LAYER0, '    { type = "embedding", embedding_dim = 4 },'),
         "model.layers[0].type", 13, "embedding takes token indices"),
    Case("embedding-vocabulary", edit(DISK_TABLE, TEXT_TABLE,
                                      LAYER0, '    { type = "embedding", num_embeddings = 10, embedding_dim = 4 },'),
         "model.layers[0].num_embeddings", 13, "is 10, but the data (text) has"),
    Case("text-needs-every-step", edit(DISK_TABLE, TEXT_TABLE,
                                       LAYER0, '    { type = "embedding", embedding_dim = 4 },',
                                       LAYER1, '    { type = "lstm", hidden_size = 4, output = "last" },'),
         "model.layers", 12, "has a target at every time step"),
    Case("attention-heads", edit(DISK_TABLE, TEXT_TABLE,
                                 LAYER0, '    { type = "embedding", embedding_dim = 6 },',
                                 LAYER1, '    { type = "causal_self_attention", num_heads = 4 },'),
         "model.layers[1].num_heads", 14, "of 6 features, which is not divisible by it"),
    Case("positions-fewer-than-context", edit(DISK_TABLE, TEXT_TABLE,
                                              LAYER0, '    { type = "embedding", embedding_dim = 4 },',
                                              LAYER1, '    { type = "position_embedding", num_positions = 5 },'),
         "model.layers[1].num_positions", 14, "is 5, but"),
    Case("residual-changes-width", edit(DISK_TABLE, TEXT_TABLE,
                                        LAYER0, '    { type = "embedding", embedding_dim = 4 },',
                                        LAYER1, '    { type = "residual", layers = [{ type = "linear", out_features = 3 }] },'),
         "model.layers[1].layers", 14, "must give back the shape they take (sequences of 8 steps of 4 features)"),
    Case("residual-inner-error", edit(LAYER1, '    { type = "residual", layers = [{ type = "lstm", hidden_size = 4 }] },'),
         "model.layers[1].layers[0].type", 14, "lstm takes sequences"),
    # --- sweeps
    Case("sweep-missing-table", BASE + '\n[sweep]\n"optimizr.lr" = [0.1, 0.2]\n', 'sweep."optimizr.lr"', 30,
         "has no key 'optimizr'"),
    Case("sweep-bad-index", BASE + '\n[sweep]\n"model.layers[7].out_features" = [3]\n',
         'sweep."model.layers[7].out_features"', 30, "out of range"),
    Case("sweep-unknown-leaf", BASE + '\n[sweep]\n"optimizer.lrr" = [0.1, 0.2]\n', "optimizer.lrr", 30,
         "did you mean 'lr'"),
    Case("sweep-bad-value", BASE + '\n[sweep]\n"optimizer.lr" = [0.1, -1.0]\n', "optimizer.lr", 30,
         "in 1 of 2 sweep points"),
    Case("sweep-not-array", BASE + '\n[sweep]\n"optimizer.lr" = 0.1\n', 'sweep."optimizer.lr"', 30,
         "non-empty array"),
    Case("sweep-empty", BASE + '\n[sweep]\n"optimizer.lr" = []\n', 'sweep."optimizer.lr"', 30, "non-empty array"),
    Case("sweep-not-table", edit("repetitions = 1", "repetitions = 1\nsweep = 3"), "sweep", 4, "must be a table"),
    # --- overrides on the command line: the message names the override
    Case("set-range", BASE, "optimizer.lr", None, "--set optimizer.lr=-1", args=("--set", "optimizer.lr=-1")),
    Case("set-index", BASE, "model.layers[5].out_features", None, "out of range",
         args=("--set", "model.layers[5].out_features=3")),
    Case("set-bad-key", BASE, "model..lr", None, "--set model..lr=1", args=("--set", "model..lr=1")),
    Case("set-no-equals", BASE, None, None, "expected KEY=VALUE", args=("--set", "optimizer.lr")),
    Case("set-bad-value", BASE, "train.epochs", None, "not a TOML value", args=("--set", "train.epochs=[1")),
    Case("set-unknown-key", BASE, "optimizer.lrr", None, "did you mean 'lr'", args=("--set", "optimizer.lrr=0.1")),
    Case("sweep-option-value", BASE, "optimizer.momentum", None, "--sweep optimizer.momentum=0,1.5",
         args=("--sweep", "optimizer.momentum=0,1.5")),
]


def write_case(case: Case, folder):
    path = folder / "spec.toml"
    if isinstance(case.text, bytes):
        path.write_bytes(case.text)
    elif case.text is not None:
        path.write_text(case.text, encoding="utf-8")
    for name, content in case.files.items():
        (folder / name).write_text(content, encoding="utf-8")
    return path


def test_corpus_is_large_and_bases_are_valid(tmp_path):
    assert len(CASES) >= 40
    assert len({c.id for c in CASES}) == len(CASES)
    path = tmp_path / "spec.toml"
    path.write_text(BASE)
    (point,) = load_points(path)
    assert point.spec.name == "tiny"
    path.write_text(edit(DISK_TABLE, CSV_DATA + "\n", LAYER0, '    { type = "linear", in_features = 3, out_features = 4 },'))
    (tmp_path / "points.csv").write_text(CSV3)
    load_points(path)


@pytest.fixture
def no_training(monkeypatch):
    """Fail loudly if a command got as far as drawing data or training."""
    import mininet.runner.cli.training
    import mininet.runner.train.loop

    def forbidden(*args, **kwargs):
        raise AssertionError("training started for a bad spec")

    monkeypatch.setattr(mininet.runner.cli.training, "run_spec", forbidden)
    monkeypatch.setattr(mininet.runner.train.loop, "make_dataset", forbidden)


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_spec_is_reported_with_key_and_line(tmp_path, no_training, command, case):
    path = write_case(case, tmp_path)
    args = [command, str(path), *case.args]
    result = CliRunner().invoke(main, args)
    out = result.output
    assert result.exit_code == 2, out
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    assert "Traceback" not in out
    assert case.expect in out
    where = f"{path}:{case.line}: " if case.line else f"{path}: "
    located = [ln.strip() for ln in out.splitlines() if ln.strip().startswith(where)]
    if case.key is not None:
        located = [ln for ln in located if ln.startswith(f"{where}{case.key}: ")]
    assert located, f"no problem at {where}{case.key or ''} in:\n{out}"
    assert any(case.expect in ln for ln in located), out


def test_every_error_of_a_spec_is_in_one_report(tmp_path):
    text = edit("repetitions = 1", "repetitions = 0",
                LAYER1, '    { type = "relux" },',
                LAYER2, '    { type = "linear", in_features = 7, out_features = 2 },',
                'bias = "zeros"', 'bias = "xavier_uniform"',
                "lr = 0.1", "lr = -1.0\nmomentum = 3",
                "epochs = 1", "epochs = 1\nepoch = 2")
    path = tmp_path / "many.toml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_points(path)
    found = {(p.key, p.line) for p in info.value.problems}
    assert found >= {("repetitions", 3), ("model.layers[1].type", 14), ("optimizer.lr", 23),
                     ("optimizer.momentum", 24), ("train.epoch", 28)}
    # the model part is invalid (unknown layer type), so its widths cannot be checked; a valid model is:
    text = text.replace('{ type = "relux" }', '{ type = "relu" }')
    path.write_text(text)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2
    lines = [ln for ln in result.output.splitlines() if ln.startswith(f"  {path}:")]
    assert result.output.startswith(f"{len(lines)} problems in {path}:")
    for key, line in [("repetitions", 3), ("model.init.bias", 11), ("model.layers[2].in_features", 15),
                      ("optimizer.lr", 23), ("optimizer.momentum", 24), ("train.epoch", 28)]:
        assert any(ln.strip().startswith(f"{path}:{line}: {key}: ") for ln in lines), (key, result.output)
    assert [int(ln.split(":")[1]) for ln in lines] == sorted(int(ln.split(":")[1]) for ln in lines)


def test_validate_reports_every_file_and_accepts_good_ones(tmp_path):
    good, bad1, bad2 = tmp_path / "good.toml", tmp_path / "bad1.toml", tmp_path / "bad2.toml"
    good.write_text(BASE)
    bad1.write_text(edit("lr = 0.1", "lr = 0"))
    bad2.write_text(edit("epochs = 1", "epochs = 0"))
    result = CliRunner().invoke(main, ["validate", str(good), str(bad1), str(bad2)])
    assert result.exit_code == 2
    assert f"{bad1}:23: optimizer.lr" in result.output and f"{bad2}:26: train.epochs" in result.output
    result = CliRunner().invoke(main, ["validate", str(good)])
    assert result.exit_code == 0 and f"{good}: ok" in result.output


def test_python_api_raises_the_same_problems(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text(edit(LAYER1, '    { type = "relux" },'))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    (problem,) = info.value.problems
    assert (problem.key, problem.line) == ("model.layers[1].type", 14)
    assert str(problem).startswith(f"{path}:14: model.layers[1].type: unknown layer type 'relux'")


KEY_LINES = """\
top = 1 # comment with [brackets] and "quotes"
"quoted.key" = 2
dotted.inner.leaf = 3
text = \"\"\"
not = a key [x]
\"\"\"
[model]
init = { weight = "w",
         bias = "b" }
layers = [
    { type = "linear", out_features = 25 },  # ] in a comment
    { type = "relu" },
]
[[blocks]]
type = "a"
[blocks.sub]
x = 1
[[blocks]]
type = "b"
"""


@pytest.mark.parametrize("path,line", [
    (("top",), 1), (("quoted.key",), 2), (("dotted", "inner", "leaf"), 3), (("text",), 4),
    (("model",), 7), (("model", "init", "weight"), 8), (("model", "init", "bias"), 9),
    (("model", "layers", 0, "out_features"), 11), (("model", "layers", 1), 12), (("model", "layers", 1, "type"), 12),
    (("blocks", 0, "type"), 15), (("blocks", 0, "sub", "x"), 17), (("blocks", 1), 18), (("blocks", 1, "type"), 19),
    (("model", "layers", 1, "missing"), 12), (("not",), None),
])
def test_key_lines_of_tables_inline_arrays_and_arrays_of_tables(path, line):
    assert line_of(key_lines(KEY_LINES), path) == line
