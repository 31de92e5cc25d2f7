"""Issue 3: both backends are paired (same data, batch order, initial state) and train identically."""

from __future__ import annotations

import pytest
import torch

from mininet.runner.registry import REGISTRY
from mininet.runner.spec import AvgPool2dSpec, BatchNorm2dSpec
from mininet.runner.train import choose_executor, prepare, run_backend, run_spec

from helpers import ROOT, SPEC_FILES, load, shortened

PLAIN_SPECS = [p for p in SPEC_FILES if "sweep" not in p.read_text()]


class Recorder:
    """Wraps a trainer and keeps a copy of everything it is fed."""

    def __init__(self, inner, initial_states, log):
        self.inner, self.log = inner, log
        log.append({"initial": [{k: v.clone() for k, v in s.items()} for s in initial_states], "batches": []})

    def step(self, x, target):
        self.log[-1]["batches"].append((x.clone(), target.clone()))
        self.inner.step(x, target)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture
def recording(monkeypatch):
    logs: dict[str, list] = {"mininet": [], "torch": []}
    for backend in logs:
        for mode in ("sequential", "vectorized"):
            key = (backend, "trainer", mode)
            original = REGISTRY.builders[key]

            def wrapped(spec, states, _original=original, _log=logs[backend]):
                return Recorder(_original(spec, states), states, _log)

            monkeypatch.setitem(REGISTRY.builders, key, wrapped)
    return logs


@pytest.mark.parametrize("executor", ["sequential", "vectorized"])
def test_backends_receive_bit_identical_data_order_and_initial_state(recording, executor):
    spec, base = load(ROOT / "specs/report/ce_momentum.toml")
    spec = shortened(spec, epochs=3, repetitions=3)
    run_spec(spec, ("mininet", "torch"), executor, base)
    m_log, t_log = recording["mininet"], recording["torch"]
    assert len(m_log) == len(t_log) == (3 if executor == "sequential" else 1)
    for m, t in zip(m_log, t_log):
        assert len(m["initial"]) == len(t["initial"])
        for sm, st in zip(m["initial"], t["initial"]):
            assert sm.keys() == st.keys()
            assert all(torch.equal(sm[k], st[k]) for k in sm)
        assert len(m["batches"]) == len(t["batches"]) == 3 * 10
        for (xm, ym), (xt, yt) in zip(m["batches"], t["batches"]):
            assert torch.equal(xm, xt) and torch.equal(ym, yt)
    # repetitions differ from each other (each draws from seed + k)
    first = m_log[0]["initial"] if executor == "vectorized" else [log["initial"][0] for log in m_log]
    assert not torch.equal(first[0]["0.weight"], first[1]["0.weight"])


def test_repetitions_draw_different_data_and_orders():
    spec, base = load(ROOT / "specs/report/ce_sgd.toml")
    _, reps = prepare(shortened(spec, repetitions=2), base)
    assert not torch.equal(reps[0].data.x_train, reps[1].data.x_train)
    assert not torch.equal(next(reps[0].orders(1, True)), next(reps[1].orders(1, True)))


@pytest.mark.parametrize("path", PLAIN_SPECS, ids=lambda p: p.stem)
def test_float64_train_loss_agrees_every_epoch(path):
    spec, base = load(path)
    epochs = min(spec.train.epochs, 15)
    if spec.data.type == "text":  # 3 epochs of the first 640 windows (9 training batches of 64 per epoch)
        epochs = 3
        spec = spec.model_copy(update={"data": spec.data.model_copy(update={"max_windows": 640})})
    spec = shortened(spec, epochs=epochs, repetitions=1, dtype="float64")
    m, t = run_spec(spec, ("mininet", "torch"), "sequential", base)
    loss_m, loss_t = m.metrics[0, :, 0], t.metrics[0, :, 0]
    assert torch.isfinite(loss_t).all()
    rel = ((loss_m - loss_t).abs() / loss_t.abs()).max().item()
    assert rel <= 1e-9, f"{path.name}: max relative train-loss difference {rel:.2e}"


@pytest.mark.parametrize("pool", ["max_pool2d", "avg_pool2d"])
def test_cnn_with_batch_norm2d_agrees_every_epoch(pool):
    # the CNN example with a BatchNorm2d after its convolution (so trained one repetition at a time)
    spec, base = load(ROOT / "specs/examples/bars_cnn.toml")
    layers = list(spec.model.layers)
    assert layers[2].type == "max_pool2d"
    if pool == "avg_pool2d":
        layers[2] = AvgPool2dSpec(kernel_size=2)
    layers.insert(1, BatchNorm2dSpec())
    spec = shortened(spec, epochs=5, repetitions=2, dtype="float64",
                     model=spec.model.model_copy(update={"layers": layers}))
    assert choose_executor(spec) == "sequential"
    m, t = run_spec(spec, ("mininet", "torch"), "auto", base)
    torch.testing.assert_close(m.metrics, t.metrics, rtol=1e-9, atol=1e-12)
    for sm, st in zip(m.states, t.states):
        assert list(sm) == list(st) and "1.running_var" in sm
        for k in st:
            torch.testing.assert_close(sm[k], st[k], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", ["mse_sgd", "mse_momentum"])
def test_report_mse_specs_end_bit_identical_in_float32(name):
    spec, base = load(ROOT / f"specs/report/{name}.toml")
    spec = shortened(spec, repetitions=2)
    assert spec.dtype == "float32" and spec.train.epochs == 200
    for executor in ("sequential", "vectorized"):
        m, t = run_spec(spec, ("mininet", "torch"), executor, base)
        for sm, st in zip(m.states, t.states):
            for k in st:
                assert torch.equal(sm[k], st[k]), f"{executor}: {k} differs"


@pytest.mark.parametrize("path, epochs", [
    ("specs/report/ce_momentum.toml", 20),
    ("specs/examples/spirals_layernorm.toml", 5),  # LayerNorm, Nesterov
    ("specs/examples/bars_cnn.toml", 5),  # a replicated Conv2d is one grouped convolution
], ids=["report", "layernorm", "cnn"])
def test_vectorized_equals_sequential_float64(path, epochs):
    spec, base = load(ROOT / path)
    spec = shortened(spec, epochs=epochs, repetitions=4, dtype="float64")
    resolved, reps = prepare(spec, base)
    for backend in ("mininet", "torch"):
        seq = run_backend(resolved, reps, backend, "sequential")
        vec = run_backend(resolved, reps, backend, "vectorized")
        assert vec.executor == "vectorized" and seq.executor == "sequential"
        torch.testing.assert_close(vec.metrics, seq.metrics, rtol=1e-9, atol=1e-12)
        for a, b in zip(vec.states, seq.states):
            for k in a:
                torch.testing.assert_close(a[k], b[k], rtol=1e-9, atol=1e-12)


def test_auto_executor_choice():
    spec, _ = load(ROOT / "specs/report/ce_sgd.toml")
    assert choose_executor(spec) == "vectorized"
    assert choose_executor(shortened(spec, repetitions=1)) == "sequential"
    blobs, _ = load(ROOT / "specs/examples/blobs_batchnorm_dropout.toml")
    assert choose_executor(blobs) == "sequential"
    with pytest.raises(ValueError, match="cannot be vectorized"):
        choose_executor(blobs, "vectorized")
