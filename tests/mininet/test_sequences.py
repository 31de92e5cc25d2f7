"""What the shared tables do not say about the sequence layers: torch's errors for bad arguments, the
Embedding's options (frozen tables, sparse), the multi-tensor convention seen by backward hooks."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

import mininet
from mininet.embedding import TableGrad
from mininet_cases import LAYER_CASES, build_mininet, case_inputs, layer_params


@pytest.mark.parametrize("build, error, message", [
    (lambda nn: nn.LSTM(3, 0), ValueError, "hidden_size must be greater than zero"),
    (lambda nn: nn.GRU(3, 4, 0), ValueError, "num_layers must be greater than zero"),
    (lambda nn: nn.RNN(3, 4, bias=1), TypeError, "bias should be of type bool, got: int"),
    (lambda nn: nn.LSTM(3, 4, batch_first="yes"), TypeError, "batch_first should be of type bool, got: str"),
    (lambda nn: nn.LSTM(3, 4, dropout=1.5), ValueError, "dropout should be a number in range"),
    (lambda nn: nn.LSTM(3, 4, proj_size=4), ValueError, "proj_size has to be smaller than hidden_size"),
    (lambda nn: nn.GRU(3, 4, proj_size=2), ValueError, "proj_size argument is only supported for LSTM"),
    (lambda nn: nn.RNN(3, 4, nonlinearity="sigmoid"), ValueError, "Unknown nonlinearity 'sigmoid'"),
    (lambda nn: nn.Embedding(4, 3, padding_idx=4), AssertionError, "Padding_idx must be within num_embeddings"),
    (lambda nn: nn.Embedding(4, 3, padding_idx=-5), AssertionError, "Padding_idx must be within num_embeddings"),
], ids=["hidden0", "layers0", "bias-int", "batch_first-str", "dropout", "proj", "gru-proj", "nonlinearity",
        "padding-high", "padding-low"])
def test_constructor_errors_are_torchs(build, error, message):
    for nn in (torch.nn, mininet):
        with pytest.raises(error, match=message):
            build(nn)


@pytest.mark.parametrize("build, args, error, message", [
    (lambda nn: nn.LSTM(3, 4), (torch.randn(2, 5, 2, 3),), ValueError, "Expected input to be 2D or 3D, got 4D"),
    (lambda nn: nn.GRU(3, 4), (torch.randn(5, 2, 2),), RuntimeError, "input.size\\(-1\\) must be equal to input_size"),
    (lambda nn: nn.RNN(3, 4), (torch.randn(5, 2, 3), torch.randn(1, 3, 4)), RuntimeError, "Expected hidden size"),
    (lambda nn: nn.RNN(3, 4), (torch.randn(5, 2, 3), torch.randn(3, 4)), RuntimeError, "hx should also be 3-D"),
    (lambda nn: nn.LSTM(3, 4), (torch.randn(5, 2, 3).double(),), ValueError, "input dtype .* does not match"),
    (lambda nn: nn.GRUCell(3, 4), (torch.randn(2, 3), torch.randn(5, 4)), RuntimeError,
     "Input batch size 2 doesn't match hidden0 batch size 5"),
    (lambda nn: nn.LSTMCell(3, 4), (torch.randn(2, 2), (torch.randn(2, 4), torch.randn(2, 4))), RuntimeError,
     "input has inconsistent input_size: got 2 expected 3"),
    (lambda nn: nn.Embedding(4, 3), (torch.tensor([0, 4]),), IndexError, "index out of range"),
    (lambda nn: nn.Embedding(4, 3), (torch.tensor([0.0, 1.0]),), RuntimeError, "Long, Int"),
], ids=["lstm-4d", "gru-size", "rnn-hidden-size", "rnn-hidden-dims", "dtype", "cell-batch", "cell-size",
        "embedding-range", "embedding-float"])
def test_forward_errors_are_torchs(build, args, error, message):
    for nn in (torch.nn, mininet):
        with pytest.raises(error, match=message):
            build(nn)(*args)


def test_replicated_recurrent_layers_refuse_unbatched_input():
    lstm = mininet.LSTM(3, 4).replicate(2)
    with pytest.raises(ValueError, match=r"holds 2 replicas: expected input of shape \(R, T, B, input_size\)"):
        lstm(torch.randn(5, 3))
    cell = mininet.GRUCell(3, 4).replicate(2)
    with pytest.raises(ValueError, match=r"Expected input to be 3D \(R=2"):
        cell(torch.randn(2, 3))


def test_sparse_embedding_is_not_implemented():
    with pytest.raises(NotImplementedError, match="sparse"):
        mininet.Embedding(4, 3, sparse=True)


@pytest.mark.parametrize("freeze", [True, False])
def test_embedding_from_pretrained_uses_the_table_and_freezes_it(freeze):
    table = torch.randn(5, 3, dtype=torch.float64)
    emb = mininet.Embedding.from_pretrained(table, freeze=freeze, padding_idx=1)
    ref = torch.nn.Embedding.from_pretrained(table.clone(), freeze=freeze, padding_idx=1)
    assert emb.weight.data is table or emb.weight.data.data_ptr() == table.data_ptr()  # not copied, as torch
    assert emb.weight.requires_grad == ref.weight.requires_grad == (not freeze)
    idx = torch.tensor([[0, 1, 4], [4, 4, 2]])
    y = emb(idx)
    assert_close(y, ref(idx).detach(), rtol=0, atol=0)
    g = torch.randn(y.shape, dtype=torch.float64)
    assert emb.backward(g) is None
    if freeze:
        assert emb.weight.grad is None
    else:
        ref(idx).backward(g)
        assert_close(emb.weight.grad, ref.weight.grad, rtol=1e-10, atol=1e-12)
        assert not emb.weight.grad[1].any()  # the padding row


def test_lstm_backward_hooks_see_every_gradient():
    # multi_tensor: grad_output holds one gradient per output (output, h_n, c_n), grad_input one per input
    torch.manual_seed(0)
    lstm = mininet.LSTM(3, 4).double()
    seen = []
    lstm.register_full_backward_pre_hook(lambda m, grad_output: seen.append(("pre", len(grad_output))))

    def double_input_grad(module, grad_input, grad_output):
        seen.append(("post", len(grad_input), len(grad_output)))
        return (2 * grad_input[0],) + grad_input[1:]

    lstm.register_full_backward_hook(double_input_grad)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    states = (torch.randn(1, 2, 4, dtype=torch.float64), torch.randn(1, 2, 4, dtype=torch.float64))
    out, (h, c) = lstm(x, states)
    g = torch.randn(out.shape, dtype=torch.float64)
    grad_x, grad_h0, grad_c0 = lstm.backward(g, None, torch.ones_like(c))
    assert seen == [("pre", 3), ("post", 3, 3)]

    plain = mininet.LSTM(3, 4).double()
    plain.load_state_dict(lstm.state_dict())
    plain(x, states)
    expected = plain.backward(g, None, torch.ones_like(c))
    assert_close(grad_x, 2 * expected[0])
    assert_close(grad_h0, expected[1])
    assert_close(grad_c0, expected[2])


def test_a_hook_returning_the_wrong_number_of_gradients_is_refused():
    gru = mininet.GRU(3, 4)
    seen = []
    gru.register_full_backward_pre_hook(lambda m, grad_output: seen.append(grad_output[1]) or (grad_output[0],))
    out, _ = gru(torch.randn(5, 2, 3))
    with pytest.raises(TypeError, match="backward pre-hook must return None or a tuple of 2 gradients, got tuple of 1"):
        gru.backward(torch.ones_like(out))
    assert seen == [None]  # grad_h_n not given: None in the tuple, as torch's for an output off the loss


SEQUENCE_CASES = [c for c in LAYER_CASES if c.id.startswith(("Embedding", "RNN", "LSTM", "GRU"))]


@pytest.mark.parametrize("case", layer_params(SEQUENCE_CASES))
def test_free_saved_drops_what_forward_kept(case):
    module = build_mininet(case)
    y = module(*case_inputs(case, torch.float64))
    module.free_saved()
    assert module._saved is None if hasattr(module, "_saved") else module._index is None
    assert all(not ws._buffers for ws in getattr(module, "_workspaces", []))
    first = y[0] if isinstance(y, tuple) else y
    with pytest.raises(RuntimeError, match="before forward"):
        module.backward(torch.ones_like(first))


@pytest.mark.parametrize("kwargs", [{}, {"num_layers": 2, "bidirectional": True}, {"proj_size": 3},
                                    {"batch_first": True}])
@pytest.mark.parametrize("replicas", [None, 2])
def test_lstm_in_eval_mode_runs_forward_alone_and_backward_still_works(kwargs, replicas):
    # eval mode: a forward that keeps only its inputs (no per-step buffers); a backward after it reruns
    # forward keeping everything, so outputs and gradients are those of training mode, and torch's
    torch.manual_seed(0)
    lstm = mininet.LSTM(3, 5, **kwargs).double()
    ref = mininet.LSTM(3, 5, **kwargs).double()
    ref.load_state_dict(lstm.state_dict())
    tl = torch.nn.LSTM(3, 5, **kwargs).double()
    tl.load_state_dict(lstm.state_dict())
    if replicas:
        lstm.replicate(replicas)
        ref.replicate(replicas)
    D = 2 if kwargs.get("bidirectional") else 1
    L = kwargs.get("num_layers", 1)
    Hr = kwargs.get("proj_size") or 5
    lead = () if replicas is None else (replicas,)
    x = torch.randn(*lead, 4, 6, 3, dtype=torch.float64)
    h0 = torch.randn(*lead, D * L, 4 if kwargs.get("batch_first") else 6, Hr, dtype=torch.float64)
    c0 = torch.randn(*lead, D * L, h0.shape[-2], 5, dtype=torch.float64)
    lstm.eval()
    out, (h, c) = lstm(x, (h0, c0))
    assert lstm._saved[0] == "lean"
    out_r, (h_r, c_r) = ref(x, (h0, c0))
    for a, b in ((out, out_r), (h, h_r), (c, c_r)):
        assert_close(a, b, rtol=1e-12, atol=1e-14)
    if replicas is None:
        xt = x.clone().requires_grad_()
        out_t, (h_t, c_t) = tl(xt, (h0, c0))
        assert_close(out, out_t.detach(), rtol=1e-10, atol=1e-12)
    g = torch.randn(out.shape, dtype=torch.float64)
    grads = lstm.backward(g, torch.ones_like(h), None)
    expected = ref.backward(g, torch.ones_like(h), None)
    for a, b in zip(grads, expected):
        assert_close(a, b, rtol=1e-12, atol=1e-14)
    for (name, p), q in zip(lstm.named_parameters(), ref.parameters()):
        assert_close(p.grad, q.grad, rtol=1e-12, atol=1e-14, msg=name)
    if replicas is None:
        (out_t * g).sum().add(h_t.sum()).backward()
        assert_close(grads[0], xt.grad, rtol=1e-10, atol=1e-12)
        for (name, p), q in zip(lstm.named_parameters(), tl.parameters()):
            assert_close(p.grad, q.grad, rtol=1e-10, atol=1e-12, msg=name)


@pytest.mark.parametrize("layer", [
    lambda nn: nn.LSTM(4, 5, num_layers=2, bidirectional=True, batch_first=True, proj_size=3),
    lambda nn: nn.GRU(4, 5, batch_first=True),
    lambda nn: nn.RNN(4, 5, nonlinearity="relu"),
], ids=["lstm-2layers-bidirectional-proj", "gru", "rnn-relu-time-major"])
@pytest.mark.parametrize("options", [{}, {"padding_idx": 0}, {"scale_grad_by_freq": True}],
                         ids=["plain", "padding_idx", "scale_grad_by_freq"])
def test_recurrent_layer_taking_rows_of_an_embedding_gives_autograds_numbers(layer, options):
    """take_rows_of: the input projection and the W_ih and table gradients from the table's rows
    (what the runner's trainer uses after an Embedding), against torch autograd in float64."""
    torch.manual_seed(0)
    t_emb, t_rnn = torch.nn.Embedding(10, 4, **options).double(), layer(torch.nn).double()
    m_emb, m_rnn = mininet.Embedding(10, 4, **options).double(), layer(mininet).double()
    m_emb.load_state_dict(t_emb.state_dict())
    m_rnn.load_state_dict(t_rnn.state_dict())
    m_rnn.take_rows_of(m_emb)
    index = torch.randint(10, (3, 7))  # 21 lookups of a 10-row table
    t_out = t_rnn(t_emb(index))[0]
    grad = torch.randn_like(t_out)
    t_out.backward(grad)
    m_out = m_rnn(m_emb(index))[0]
    table_grad = m_rnn.backward(grad)[0]
    assert isinstance(table_grad, TableGrad)  # the rows' path was taken
    m_emb.backward(table_grad)
    assert_close(m_out, t_out, rtol=1e-10, atol=1e-12)
    for (name, m_p), (_, t_p) in zip([*m_emb.named_parameters(), *m_rnn.named_parameters()],
                                     [*t_emb.named_parameters(), *t_rnn.named_parameters()]):
        assert_close(m_p.grad, t_p.grad, rtol=1e-10, atol=1e-12, msg=name)
