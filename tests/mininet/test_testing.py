"""mininet.testing.gradcheck catches wrong backward passes and says where; test_gradcheck.py runs it
over every shipped layer and loss."""

from __future__ import annotations

import pytest
import torch

import mininet
from mininet.testing import gradcheck


def f64(*shape):
    return torch.randn(*shape, dtype=torch.float64)


class TanhWithoutSquare(mininet.Tanh):
    def backward(self, grad_output):
        return grad_output * (1 - self._kept())  # should be 1 - y^2


class LinearDoublingBiasGrad(mininet.Linear):
    def backward(self, grad_output, input_grad=True):
        grad_input = super().backward(grad_output, input_grad)
        self.bias.grad = 2 * self.bias.grad
        return grad_input


class LinearForgettingWeightGrad(mininet.Linear):
    def backward(self, grad_output, input_grad=True):
        self.bias.accumulate(grad_output.sum(0))
        return grad_output @ self.weight.data


class CrossEntropyMissingMean(mininet.CrossEntropyLoss):
    def backward(self, grad_output=None):
        return super().backward(grad_output) * self._index.shape[0]  # the sum's gradient, not the mean's


class TransposedInputGrad(mininet.Linear):
    def backward(self, grad_output, input_grad=True):
        return super().backward(grad_output, input_grad).t()


@pytest.mark.parametrize("module, x, target, message", [
    (TanhWithoutSquare(), f64(4, 3), None, r"TanhWithoutSquare: d/d input differs .* at index \(\d+, \d+\)"),
    (LinearDoublingBiasGrad(3, 2), f64(4, 3), None, r"d/d bias differs .* \(2 of 2 elements differ"),
    (LinearForgettingWeightGrad(3, 2), f64(4, 3), None, r"d/d weight: backward\(\) gave no gradient \(None\)"),
    (CrossEntropyMissingMean(), f64(5, 3), torch.tensor([0, 2, 1, 1, 0]), r"d/d input differs"),
    (TransposedInputGrad(3, 3), f64(4, 3), None, r"d/d input: backward\(\) gave shape \(3, 4\), expected \(4, 3\)"),
], ids=["tanh-input", "linear-bias", "linear-no-weight-grad", "ce-scale", "wrong-shape"])
def test_wrong_backward_is_caught_and_named(module, x, target, message):
    module = module.double()
    with pytest.raises(AssertionError, match=message):
        gradcheck(module, x, target)
    assert gradcheck(module, x, target, raise_exception=False) is False


def test_float32_is_refused():
    with pytest.raises(TypeError, match="needs float64.*input is torch.float32"):
        gradcheck(mininet.Linear(3, 2).double(), torch.randn(4, 3))
    with pytest.raises(TypeError, match="needs float64.*weight is torch.float32"):
        gradcheck(mininet.Linear(3, 2), f64(4, 3))


def test_module_is_left_as_found():
    torch.manual_seed(0)
    model = mininet.Sequential(mininet.Linear(3, 4), mininet.BatchNorm1d(4), mininet.ReLU(inplace=True),
                               mininet.Dropout(0.3), mininet.Linear(4, 2)).double()
    model[0].weight.grad = torch.full((4, 3), 7.0, dtype=torch.float64)  # a gradient from before
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = f64(6, 3)
    x_before = x.clone()
    assert gradcheck(model, x)
    for k, v in model.state_dict().items():  # parameters and running statistics
        assert torch.equal(v, before[k]), k
    assert torch.equal(model[0].weight.grad, torch.full((4, 3), 7.0, dtype=torch.float64))
    assert model[4].weight.grad is None
    assert torch.equal(x, x_before)
    with pytest.raises(RuntimeError, match="before forward"):
        model.backward(f64(6, 2))  # nothing kept from the check


def test_grad_output_is_the_seed_of_backward():
    torch.manual_seed(0)
    layer = mininet.Linear(3, 2).double()
    # a correct layer passes with any seed; an unreduced loss needs one of the loss's shape
    assert gradcheck(layer, f64(4, 3), grad_output=f64(4, 2))
    crit = mininet.MSELoss(reduction="none")
    assert gradcheck(crit, f64(4, 2), f64(4, 2), grad_output=f64(4, 2))
    with pytest.raises(ValueError, match="loss's shape"):
        gradcheck(crit, f64(4, 2), f64(4, 2), grad_output=f64(4))


class LinearWritingFrozenGrad(mininet.Linear):
    def backward(self, grad_output, input_grad=True):
        grad_input = super().backward(grad_output, input_grad)
        self.weight.grad = grad_output.t() @ self._input  # written past accumulate: ignores the freeze
        return grad_input


def test_frozen_parameters_are_not_checked_but_must_get_no_gradient():
    torch.manual_seed(0)
    layer = mininet.Linear(3, 2).double()
    layer.weight.requires_grad_(False)
    assert gradcheck(layer, f64(4, 3))  # the input and the bias
    assert layer.weight.grad is None
    leaky = LinearWritingFrozenGrad(3, 2).double()
    leaky.weight.requires_grad_(False)
    with pytest.raises(AssertionError, match=r"frozen parameter weight \(requires_grad=False\) received a gradient"):
        gradcheck(leaky, f64(4, 3))
    assert gradcheck(leaky, f64(4, 3), raise_exception=False) is False


class AttentionSwappingKeyAndValueGrads(mininet.MultiheadAttention):
    def backward(self, grad_attn_output, grad_attn_weights=None):
        grad_query, grad_key, grad_value = super().backward(grad_attn_output, grad_attn_weights)
        return grad_query, grad_value, grad_key


class AttentionIgnoringWeightsGrad(mininet.MultiheadAttention):
    def backward(self, grad_attn_output, grad_attn_weights=None):
        return super().backward(grad_attn_output, None)


def test_several_inputs_and_outputs():
    # each input is checked on its own; each output's gradient is part of the objective; one tensor
    # passed at several positions is one variable (its gradients added, as autograd does)
    torch.manual_seed(0)
    q, k, v = f64(3, 2, 4), f64(5, 2, 4), f64(5, 2, 4)
    attention = mininet.MultiheadAttention(4, 2).double()
    assert gradcheck(attention, (q, k, v))
    assert gradcheck(attention, (q, q, q), forward_kwargs={"need_weights": False})
    with pytest.raises(AssertionError, match=r"d/d input 1 differs"):
        gradcheck(AttentionSwappingKeyAndValueGrads(4, 2).double(), (q, k, v))
    with pytest.raises(AssertionError, match=r"d/d input 0 differs"):
        gradcheck(AttentionIgnoringWeightsGrad(4, 2).double(), (q, k, v))
    # without the weights among the outputs the same backward is right
    assert gradcheck(AttentionIgnoringWeightsGrad(4, 2).double(), (q, k, v), forward_kwargs={"need_weights": False})


class LSTMForgettingCellStateGrad(mininet.LSTM):
    def backward(self, grad_output, grad_h_n=None, grad_c_n=None):
        grad_input, grad_h0, grad_c0 = super().backward(grad_output, grad_h_n, grad_c_n)
        return grad_input, grad_h0, torch.zeros_like(grad_c0)


class EmbeddingGivingIndicesAGradient(mininet.Embedding):
    def backward(self, grad_output):
        super().backward(grad_output)
        return torch.zeros(self._index.shape)


class LSTMGivingAStateNotGiven(mininet.LSTM):
    def backward(self, grad_output, grad_h_n=None, grad_c_n=None):
        grad_input, _, _ = super().backward(grad_output, grad_h_n, grad_c_n)
        return grad_input, torch.zeros(1, 2, 4, dtype=torch.float64), None


def test_nested_inputs_indices_and_inputs_not_given():
    # the recurrent layers' shapes of the convention: nested state tuples, indices, a state not given
    torch.manual_seed(0)
    x, h0, c0 = f64(4, 2, 3), f64(1, 2, 4), f64(1, 2, 4)
    lstm = mininet.LSTM(3, 4).double()
    assert gradcheck(lstm, (x, (h0, c0)))
    assert gradcheck(lstm, (x, None)) and gradcheck(lstm, x)
    with pytest.raises(AssertionError, match=r"d/d input 2 differs"):
        gradcheck(LSTMForgettingCellStateGrad(3, 4).double(), (x, (h0, c0)))
    with pytest.raises(AssertionError, match=r"d/d input 1: an input not given takes no gradient"):
        gradcheck(LSTMGivingAStateNotGiven(3, 4).double(), (x, None))
    indices = torch.randint(0, 7, (3, 5))
    assert gradcheck(mininet.Embedding(7, 4).double(), indices)
    with pytest.raises(AssertionError, match=r"d/d input: an input that is not floating point takes no gradient"):
        gradcheck(EmbeddingGivingIndicesAGradient(7, 4).double(), indices)


def test_tied_inputs_with_nested_outputs_and_a_given_grad_output():
    # tied tensors and forward keywords together with given G's, one None (that output is off J)
    torch.manual_seed(0)
    q = f64(3, 2, 4)
    attention = mininet.MultiheadAttention(4, 2).double()
    out, weights = attention(q, q, q)
    attention.free_saved()
    assert gradcheck(attention, (q, q, q), grad_output=(f64(*out.shape), None))
    assert gradcheck(attention, (q, q, q), grad_output=(None, f64(*weights.shape)))
    with pytest.raises(AssertionError, match=r"d/d input 0 differs"):
        gradcheck(AttentionIgnoringWeightsGrad(4, 2).double(), (q, q, q), grad_output=(None, f64(*weights.shape)),
                  forward_kwargs={"average_attn_weights": True})
