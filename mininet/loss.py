"""Loss functions: ``loss = criterion(output, target)``, then ``criterion.backward()`` = d loss / d output."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .module import Module

_REDUCTIONS = ("none", "mean", "sum")


class _Loss(Module):
    """Common base: the ``reduction`` argument, the calling convention and the replica dimension.

    ``backward(grad_output=None)`` seeds the chain rule with ``grad_output`` (1 when omitted, as
    ``loss.backward()`` does in torch). With replicas the loss is a vector of ``R`` per-replica losses
    and ``grad_output`` may be a tensor of shape ``(R,)``. With ``reduction="none"`` the loss is not
    reduced, and, as in torch, ``grad_output`` must then be given, with the loss's shape.
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{self._get_name()}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    def replicate(self, n: int) -> Module:
        # Losses hold no trainable state: replicas only change which dimensions are reduced
        # (buffers such as class weights stay shared by every replica).
        object.__setattr__(self, "replicas", n)
        return self

    def _reduce_dims(self, t: torch.Tensor, keep: int = 0) -> tuple[int, ...]:
        """Dimensions that the reduction collapses: all of them, or all but the replica dimension."""
        first = 1 if self.replicas is not None else 0
        return tuple(range(first, t.dim() - keep))

    def _reduce(self, t: torch.Tensor) -> torch.Tensor:
        """Mean or sum of per-element losses over the reduced dimensions (``"none"``: t itself)."""
        if self.reduction == "none":
            return t
        dims = self._reduce_dims(t)
        return t.mean(dims) if self.reduction == "mean" else t.sum(dims)

    def _count(self, t: torch.Tensor, keep: int = 0) -> int:
        """n, the divisor of "mean": the number of reduced elements of t, ignoring its last ``keep``
        dimensions; 1 for "sum" and "none"."""
        if self.reduction != "mean":
            return 1
        return math.prod(t.shape[d] for d in self._reduce_dims(t, keep))

    def _chain(self, grad: torch.Tensor, grad_output: torch.Tensor | float | None,
               per_row: bool = False) -> torch.Tensor:
        """grad * grad_output, with grad_output shaped to broadcast (skipped for the default seed 1).

        ``per_row``: the unreduced loss has one value per row of the input (the last dimension holds
        the classes), not one per element.
        """
        if self.reduction == "none":
            shape = grad.shape[:-1] if per_row else grad.shape
            if not (isinstance(grad_output, torch.Tensor) and grad_output.shape == shape):
                got = (f"shape {tuple(grad_output.shape)}" if isinstance(grad_output, torch.Tensor)
                       else repr(grad_output))
                raise ValueError(f"{self._get_name()}(reduction='none').backward(grad_output): the loss is "
                                 f"not reduced, so grad_output must be a tensor of the loss's shape "
                                 f"{tuple(shape)}, got {got}")
        if grad_output is None:
            return grad
        if isinstance(grad_output, torch.Tensor) and grad_output.dim() > 0:
            grad_output = grad_output.view(grad_output.shape + (1,) * (grad.dim() - grad_output.dim()))
        elif isinstance(grad_output, (int, float)) and grad_output == 1:
            return grad
        return grad * grad_output

    def _saved(self, name: str) -> torch.Tensor:
        value = getattr(self, name, None)
        if value is None:
            raise self._missing_forward()
        return value

    def _check_same_shape(self, input: torch.Tensor, target: torch.Tensor) -> None:
        if input.shape != target.shape:
            raise ValueError(f"{self._get_name()}: target shape {tuple(target.shape)} does not match "
                             f"input shape {tuple(input.shape)}")


class MSELoss(_Loss):
    """Mean squared error.

    Forward:  L = mean((x - y)^2) over all elements (``reduction="sum"``: the sum)
    Backward: dL/dx = 2 (x - y) / n * g   with n the number of elements (1 for "sum"),
              computed as torch's ``mse_loss_backward``: (2/n) * (x - y) * g

    Args:
        reduction: "mean", "sum" or "none" (the per-element losses, unreduced).

    Shape:
        - Input: ``(*)``; Target: same shape; Output: scalar (replicated: ``(R,)``);
          ``"none"``: the input's shape.
    """

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self._check_same_shape(input, target)
        self._diff = input - target
        return self._reduce(self._diff * self._diff)

    def backward(self, grad_output: torch.Tensor | float | None = None) -> torch.Tensor:
        diff = self._saved("_diff")
        return self._chain(diff * (2.0 / self._count(diff)), grad_output)


class L1Loss(_Loss):
    """Mean absolute error.

    Forward:  L = mean(|x - y|) over all elements (``reduction="sum"``: the sum)
    Backward: dL/dx = sign(x - y) / n * g   with n the number of elements (1 for "sum");
              the gradient at x = y is 0, as autograd's ``abs`` backward gives

    Args:
        reduction: "mean", "sum" or "none" (the per-element losses, unreduced).

    Shape:
        - Input: ``(*)``; Target: same shape; Output: scalar (replicated: ``(R,)``);
          ``"none"``: the input's shape.
    """

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self._check_same_shape(input, target)
        self._diff = input - target
        return self._reduce(self._diff.abs())

    def backward(self, grad_output: torch.Tensor | float | None = None) -> torch.Tensor:
        diff = self._saved("_diff")
        return self._chain(torch.sign(diff) * (1.0 / self._count(diff)), grad_output)


class HuberLoss(_Loss):
    """Huber loss: quadratic near zero, linear beyond ``delta``.

    Forward:  with z = |x - y|: l = 0.5 z^2 if z < delta, else delta * (z - 0.5 delta);
              L = mean(l) over all elements (``reduction="sum"``: the sum)
    Backward: dL/dx = (x - y) / n * g where |x - y| <= delta, else delta * sign(x - y) / n * g
              (n the number of elements, 1 for "sum"; torch's ``huber_loss_backward``)

    Args:
        reduction: "mean", "sum" or "none" (the per-element losses, unreduced).
        delta: where the loss turns from quadratic to linear; > 0.

    Shape:
        - Input: ``(*)``; Target: same shape; Output: scalar (replicated: ``(R,)``);
          ``"none"``: the input's shape.
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"{self._get_name()}: delta must be positive, got {delta}")
        self.delta = delta

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self._check_same_shape(input, target)
        self._diff = input - target
        return self._reduce(F.huber_loss(input, target, reduction="none", delta=self.delta))

    def backward(self, grad_output: torch.Tensor | float | None = None) -> torch.Tensor:
        diff = self._saved("_diff")
        grad = diff.clamp(-self.delta, self.delta)
        return self._chain(grad * (1.0 / self._count(diff)), grad_output)


def _log_softmax(x: torch.Tensor) -> torch.Tensor:
    """log softmax over the last (class) dimension. For batches of batches (replicas) the classes are
    reduced as an outer dimension of a transposed view: torch's kernel is several times faster there
    than over a tiny innermost dimension (16 vs 35 us for 20 x 100 x 2). The two kernels vectorise
    differently, so a few values differ from ``torch.log_softmax(x, -1)`` in the last bit."""
    if x.dim() < 3:
        return torch.log_softmax(x, dim=-1)
    return torch.log_softmax(x.transpose(-1, -2), dim=-2).transpose(-1, -2)


#: the layouts the classification losses take, for their error messages
_CLASS_LAYOUTS = ("input (C,) with target (); (N, C) with (N,); (N, C, d1, ..., dK) with (N, d1, ..., dK), "
                  "the classes in dimension 1")
_REPLICATED_LAYOUT = "input (R, N, C) with target (R, N), the classes last"


class _ClassIndexLoss(_Loss):
    """Common base of the losses of class-index targets: optional class ``weight`` (a buffer, shared by
    every replica) and ``ignore_index``.

    The class dimension is torch's: dimension 1 of an input of 2 or more dimensions ((N, C) or
    (N, C, d1, ..., dK)), the only one of an unbatched (C,). A replicated loss takes (R, N, C), the
    classes last. The computation itself runs with the classes last: a K-dimensional input is moved to
    (N, d1, ..., dK, C) (a view) and its gradient moved back.
    """

    def __init__(self, weight: torch.Tensor | None, ignore_index: int, reduction: str) -> None:
        super().__init__(reduction)
        if weight is not None and weight.dim() != 1:
            raise ValueError(f"{self._get_name()}: weight must be a 1-D tensor of class weights, "
                             f"got shape {tuple(weight.shape)}")
        self.register_buffer("weight", weight)
        self.ignore_index = int(ignore_index)

    def _classes_last(self, input: torch.Tensor) -> torch.Tensor:
        """``input`` with its classes in the last dimension (a view), remembering whether backward must
        move them back to dimension 1. Only (N, C, d1, ..., dK) moves: (C,), (N, C) and the replicated
        (R, N, C) hold them last already (one comparison on the hot path)."""
        moved = input.dim() > 2 and self.replicas is None
        self.__dict__["_moved"] = moved  # hot path: a plain attribute
        if self.replicas is not None and input.dim() != 3:
            raise ValueError(f"{self._get_name()}: input of shape {tuple(input.shape)}; expected "
                             f"{self._layout_hint()}")
        return input.movedim(1, -1) if moved else input

    def _classes_back(self, grad: torch.Tensor) -> torch.Tensor:
        """A gradient computed with the classes last, in the input's layout (contiguous, as torch's)."""
        return grad.movedim(-1, 1).contiguous() if self._moved else grad

    def _layout_hint(self) -> str:
        return _CLASS_LAYOUTS if self.replicas is None else f"{self.replicas} replicas: {_REPLICATED_LAYOUT}"

    def _checked_weight(self, x: torch.Tensor) -> torch.Tensor | None:
        w = self.weight
        if w is not None and w.shape[0] != x.shape[-1]:
            raise ValueError(f"{self._get_name()}: weight holds {w.shape[0]} class weights for input with "
                             f"{x.shape[-1]} classes")
        return w

    def _check_index_shape(self, input: torch.Tensor, target: torch.Tensor, x: torch.Tensor) -> None:
        """The target of class indices fits ``input`` (``x``: the input with its classes last)."""
        if target.shape != x.shape[:-1]:
            raise ValueError(f"{self._get_name()}: target of shape {tuple(target.shape)} does not fit input of "
                             f"shape {tuple(input.shape)}; expected {self._layout_hint()}")

    def _nll(self, logp: torch.Tensor, target: torch.Tensor) -> tuple:
        """The negative log likelihood of the targets, as torch's nll_loss: the pick at each target,
        weighted, ignored rows set to 0, reduced over D (the counted targets' weights for "mean").

        Returns (loss, index, target_w, ignored, dims, denom): the targets as a gather index (class 0
        standing in for ignored rows), each row's target weight (0 when ignored), the ignored rows, the
        reduced dimensions (None for "none") and D (1 for "sum" and "none").
        """
        w = self._checked_weight(logp)
        ignored = target == self.ignore_index
        index = target.masked_fill(ignored, 0).unsqueeze(-1)  # class 0 stands in; those rows are zeroed
        try:
            picked = logp.gather(-1, index).squeeze(-1)
        except (RuntimeError, IndexError):
            raise self._bad_targets(target, logp.shape[-1]) from None
        target_w = torch.ones_like(picked) if w is None else w[index.squeeze(-1)]
        target_w = target_w.masked_fill(ignored, 0.0)
        picked = (picked if w is None else picked * target_w).masked_fill(ignored, 0.0)
        if self.reduction == "none":
            return -picked, index, target_w, ignored, None, 1.0
        dims = self._reduce_dims(picked)
        denom = target_w.sum(dims) if self.reduction == "mean" else 1.0
        return -picked.sum(dims) / denom, index, target_w, ignored, dims, denom

    def _bad_targets(self, target: torch.Tensor, c: int) -> ValueError:
        counted = target[target != self.ignore_index]
        low, high = (int(counted.min()), int(counted.max())) if counted.numel() else (None, None)
        return ValueError(f"{self._get_name()}: target holds class indices outside [0, {c}) (min {low}, "
                          f"max {high}) for {c} classes (targets equal to ignore_index={self.ignore_index} "
                          "left out)")


class CrossEntropyLoss(_ClassIndexLoss):
    """Cross entropy of logits against class indices or class probabilities.

    With p = softmax(x) over the classes (dimension 1, as torch; the only one of an unbatched (C,)
    input; the last of a replicated one), C classes, class weights w (1 when not given) and label
    smoothing eps, each row i (a sample, or a sample's position (n, d1, ..., dK) of a K-dimensional
    input) has a target distribution a_i over the classes:
        class indices t:        a_ic = k_i * w_c * ((1 - eps) * [c == t_i] + eps / C)
        class probabilities q:  a_ic = w_c * ((1 - eps) * q_ic + eps / C)
    where k_i = 0 for a row whose target is ``ignore_index``, else 1.
    Forward:  l_i = sum_c -a_ic * log p_ic;  L = sum_i l_i / D  ("none": the l_i themselves)
              D for "mean": class indices: sum_i k_i * w_{t_i} (without weights: the number of rows not
              ignored); class probabilities: the number of rows, N * d1 * ... * dK (weights do not
              enter D, as in torch); D = 1 for "sum".
    Backward: dL/dx_ic = (p_ic * sum_k a_ik - a_ic) / D * g, and 0 in ignored rows
              (plain case, no weights, smoothing or ignored rows: (p_i - onehot(t_i)) / N * g)

    Args:
        weight: optional class weights, shape ``(C,)``; kept as the buffer ``weight`` like torch.
        ignore_index: (keyword) a class-index target whose rows count nowhere: not in the loss, its
            gradient or D (-100 by default, as in torch; not allowed with class probabilities).
        reduction: (keyword) "mean", "sum" or "none" (one loss per row, unreduced).
        label_smoothing: (keyword) eps in [0, 1].

    Shape:
        - Input: ``(N, C)``, ``(C,)`` or ``(N, C, d1, ..., dK)``, the classes in dimension 1 as torch;
          Target: int64 class indices in [0, C) (or ``ignore_index``) of shape ``(N,)``, ``()`` or
          ``(N, d1, ..., dK)``, or float probabilities of the input's shape; Output: scalar
          (``"none"``: ``(N,)``, ``()`` or ``(N, d1, ..., dK)``).
        - Replicated (``replicate(R)``): input ``(R, N, C)``, the classes LAST; target ``(R, N)`` or
          ``(R, N, C)``; output ``(R,)`` (``"none"``: ``(R, N)``); the weight is shared by all replicas.
    """

    def __init__(self, weight: torch.Tensor | None = None, *, ignore_index: int = -100,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, ignore_index, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"{self._get_name()}: label_smoothing must be between 0.0 and 1.0, "
                             f"got {label_smoothing}")
        self.label_smoothing = label_smoothing

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        x = self._classes_last(input)
        if target.dtype != torch.long:
            return self._forward_probabilities(input, target, x)
        self._check_index_shape(input, target, x)
        # (N, C, d1, ..., dK): torch's log_softmax over dimension 1, seen with the classes last
        logp = torch.log_softmax(input, 1).movedim(1, -1) if self._moved else _log_softmax(x)
        if self.weight is None and self.label_smoothing == 0.0 and self.reduction != "none":
            loss = self._forward_plain(logp, target)
            if loss is not None:
                return loss
        return self._forward_general(logp, target)

    def _forward_plain(self, logp: torch.Tensor, target: torch.Tensor) -> torch.Tensor | None:
        """The hot path (no weights, no smoothing), or None to take the general path instead.

        It assumes that no row is ignored, and the check is free: an ignored row's target then lies
        outside [0, C), and the CPU kernels that index with it raise (``gather`` here; for 2-D input
        ``scatter_add_`` in ``backward``, which then falls back to the general path). On a GPU the same
        index would trip a device-side assert, so there the general path runs from the start.
        """
        c = logp.shape[-1]
        if not logp.is_cpu or 0 <= self.ignore_index < c or target.numel() == 0:
            return None
        if logp.dim() == 2:
            # torch's nll_loss forward picks, sums and scales in one kernel (in torch's summation order,
            # so the loss has cross_entropy's bits, ignored rows left out); no host sync.
            try:
                loss = F.nll_loss(logp, target, ignore_index=self.ignore_index, reduction=self.reduction)
            except (RuntimeError, IndexError):
                raise self._bad_targets(target, c) from None
        else:
            try:
                picked = logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
            except (RuntimeError, IndexError):
                return None  # out-of-range targets: the general path tells ignored rows from bad ones
            loss = -self._reduce(picked)
        # hot path: plain attributes, no registry to update
        self.__dict__.update(_logp=logp, _index=target.unsqueeze(-1), _target_dist=None, _ignored=None)
        return loss

    def _forward_general(self, logp: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        # torch's cross_entropy_loss_label_smoothing: (1 - eps) * nll + eps / C * smooth, where nll is
        # nll_loss (weighted mean: divided by the sum of the counted targets' weights) and smooth the
        # (weighted) sum of -log p over all classes, divided the same way; ignored rows are set to 0.
        loss, index, target_w, ignored, dims, denom = self._nll(logp, target)
        w, eps, c = self.weight, self.label_smoothing, logp.shape[-1]
        # a = (1 - eps) * w_t * onehot(t) + eps / C * w, the distribution the backward needs (whose
        # rows that are ignored it sets to 0 at the end).
        a = torch.full_like(logp, eps / c) if w is None else w.expand_as(logp) * (eps / c)
        a.scatter_add_(-1, index, (target_w * (1 - eps)).unsqueeze(-1))
        if eps:
            smooth = -(logp if w is None else logp * w).sum(-1).masked_fill(ignored, 0.0)
            if dims is not None:
                smooth = smooth.sum(dims) / denom
            loss = (1 - eps) * loss + smooth * (eps / c)
        self._logp, self._index, self._target_dist, self._denom = logp, index, a, denom
        self._ignored = ignored
        return loss

    def _forward_probabilities(self, input: torch.Tensor, target: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if not (target.is_floating_point() and target.shape == input.shape):
            raise TypeError(f"{self._get_name()}: class-index target must be int64 (torch.long), got "
                            f"{target.dtype} of shape {tuple(target.shape)} (a float target holds class "
                            f"probabilities and has the input's shape {tuple(input.shape)}); "
                            f"class indices: {self._layout_hint()}")
        if self.ignore_index >= 0:
            # torch's own check: no row can be told to be ignored by a probability target
            raise ValueError(f"{self._get_name()}: ignore_index={self.ignore_index} is not supported with "
                             "class-probability (float) targets; leave it negative (default -100)")
        if self._moved:
            logp, target = torch.log_softmax(input, 1).movedim(1, -1), target.movedim(1, -1)
        else:
            logp = torch.log_softmax(x, dim=-1)
        eps, c = self.label_smoothing, logp.shape[-1]
        a = target * (1 - eps) + eps / c if eps else target
        w = self._checked_weight(logp)
        if w is not None:
            a = a * w
        denom = float(self._count(logp, keep=1))
        self._logp, self._target_dist, self._denom, self._ignored = logp, a, denom, None
        if self.reduction == "none":
            return -(logp * a).sum(-1)
        return -(logp * a).sum(self._reduce_dims(logp)) / denom

    def _constant(self, shape: torch.Size, value: float, like: torch.Tensor) -> torch.Tensor:
        """A tensor filled with ``value``, kept between steps of the same shape (one allocation fewer
        per backward)."""
        key = (shape, value, like.dtype, like.device)
        cached = self.__dict__.get("_constant_cache")
        if cached is None or cached[0] != key:
            cached = (key, torch.full(shape, value, dtype=like.dtype, device=like.device))
            object.__setattr__(self, "_constant_cache", cached)
        return cached[1]

    def backward(self, grad_output: torch.Tensor | float | None = None) -> torch.Tensor:
        logp = self._saved("_logp")
        p = logp.exp()
        if self._target_dist is None:
            # Autograd's operations: nll_loss's backward puts -1/N at each target, log_softmax's backward
            # gives gl - p * sum(gl) = p * (1/N), then -1/N at the target. (Its exp is SLEEF's, while
            # torch.exp on the CPU is MKL's: p, hence the gradient, can differ in the last bit.)
            r = 1.0 / self._count(logp, keep=1)
            grad = p.mul_(r)
            try:
                grad.scatter_add_(-1, self._index, self._constant(self._index.shape, -r, grad))
            except (RuntimeError, IndexError):
                # an ignored row (see _forward_plain): the general way, from a fresh p
                self._forward_general(logp, self._index.squeeze(-1))
                grad = self._general_grad(logp.exp())
        else:
            grad = self._general_grad(p)
        return self._classes_back(self._chain(grad, grad_output, per_row=True))

    def _general_grad(self, p: torch.Tensor) -> torch.Tensor:
        """dL/dx = (p * sum(a) - a) / D from the target distribution a (seed gradient 1)."""
        r = 1.0 / self._denom
        if isinstance(r, torch.Tensor) and r.dim() > 0:
            r = r.view(r.shape + (1,) * (p.dim() - r.dim()))
        grad_logp = self._target_dist * -r  # dL/dlog p
        grad = grad_logp - p * grad_logp.sum(-1, keepdim=True)  # log_softmax's backward
        if self._ignored is not None:
            # 0 even where every row is ignored (D = 0, r = inf), as nll_loss's backward leaves them
            grad.masked_fill_(self._ignored.unsqueeze(-1), 0.0)
        return grad


class NLLLoss(_ClassIndexLoss):
    """Negative log likelihood of class indices, from log-probabilities (e.g. the output of LogSoftmax).

    With class weights w (1 when not given) and k_i = 0 for a row whose target is ``ignore_index``, else 1
    (a row: a sample, or a sample's position of a K-dimensional input; the classes in dimension 1):
    Forward:  l_i = -k_i * w_{t_i} * x_{i, t_i};  L = sum_i l_i / D  ("none": the l_i themselves)
              D for "mean": sum_i k_i * w_{t_i} (without weights: the number of rows not ignored);
              D = 1 for "sum". With every row ignored, "mean" gives 0 / 0 = nan, as torch does.
    Backward: dL/dx_ic = -(g / D) * k_i * w_c * [c == t_i]: one entry per row, at its target, and 0
              everywhere when D = 0 (autograd's ``nll_loss_backward``).

    ``CrossEntropyLoss()(x, t)`` is ``NLLLoss()(LogSoftmax(dim=1)(x), t)``: the same loss, and the same
    gradient once LogSoftmax's backward has run.

    Args:
        weight: optional class weights, shape ``(C,)``; kept as the buffer ``weight`` like torch.
        ignore_index: (keyword) a target whose rows count nowhere: not in the loss, its gradient or D.
        reduction: (keyword) "mean", "sum" or "none" (one loss per row, unreduced).

    Shape:
        - Input: ``(N, C)``, ``(C,)`` or ``(N, C, d1, ..., dK)`` log-probabilities, the classes in
          dimension 1 as torch; Target: int64 class indices in [0, C) (or ``ignore_index``) of shape
          ``(N,)``, ``()`` or ``(N, d1, ..., dK)``; Output: scalar (``"none"``: the target's shape).
        - Replicated (``replicate(R)``): input ``(R, N, C)``, the classes LAST; target ``(R, N)``; output
          ``(R,)`` (``"none"``: ``(R, N)``).
    """

    def __init__(self, weight: torch.Tensor | None = None, *, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(weight, ignore_index, reduction)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if target.dtype != torch.long:
            raise TypeError(f"{self._get_name()}: target must hold int64 (torch.long) class indices, got "
                            f"{target.dtype}")
        x = self._classes_last(input)
        self._check_index_shape(input, target, x)
        loss, index, target_w, _, _, denom = self._nll(x, target)
        self._input, self._index, self._target_w, self._denom = x, index, target_w, denom
        return loss

    def backward(self, grad_output: torch.Tensor | float | None = None) -> torch.Tensor:
        x = self._saved("_input")
        # torch's kernel: -(1 / D) times the target's weight (without weights: -(1 / D) itself)
        step = 1.0 / self._denom
        if isinstance(step, torch.Tensor) and step.dim() > 0:
            step = step.unsqueeze(-1)  # one D per replica
        src = (self._target_w * -step).masked_fill_(self._target_w == 0, 0.0)  # 0, not nan, where D = 0
        grad = torch.zeros_like(x).scatter_(-1, self._index, src.unsqueeze(-1))
        return self._classes_back(self._chain(grad, grad_output, per_row=True))


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy on logits (a sigmoid and the binary cross entropy in one stable step).

    With s = sigmoid(x), targets y in [0, 1], element weights w and positive-class weights pw (1 when not given):
    Forward:  l = w * ((1 - y) * x - (1 + (pw - 1) * y) * log s(x))
              = w * -(pw * y * log s + (1 - y) * log(1 - s));  L = mean(l) (``reduction="sum"``: the sum)
    Backward: dL/dx = w * ((pw * y + 1 - y) * s - pw * y) / n * g   (without pw: w * (s - y) / n * g);
              n the number of elements, 1 for "sum"

    Args:
        weight: optional weight broadcast against the input (buffer ``weight``).
        reduction: (keyword) "mean", "sum" or "none" (unreduced).
        pos_weight: (keyword) optional weight of positive examples, broadcast against the last dimension
            (buffer ``pos_weight``).

    Shape:
        - Input: ``(*)``; Target: same shape; Output: scalar (replicated: ``(R,)``; weights shared);
          ``"none"``: the input's shape.
    """

    def __init__(self, weight: torch.Tensor | None = None, *, reduction: str = "mean",
                 pos_weight: torch.Tensor | None = None) -> None:
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self._check_same_shape(input, target)
        # torch's binary_cross_entropy_with_logits, term for term.
        log_sigmoid = F.logsigmoid(input)
        if self.pos_weight is not None:
            log_sigmoid = log_sigmoid * ((self.pos_weight - 1) * target + 1)
        loss = (1 - target) * input - log_sigmoid
        if self.weight is not None:
            loss = loss * self.weight
        self._input, self._target = input, target
        return self._reduce(loss)

    def backward(self, grad_output: torch.Tensor | float | None = None) -> torch.Tensor:
        x = self._saved("_input")
        y, s = self._target, torch.sigmoid(x)
        if self.pos_weight is not None:
            py = self.pos_weight * y
            grad = (py + 1 - y) * s - py
        else:
            grad = s - y
        if self.weight is not None:
            grad = grad * self.weight
        return self._chain(grad / self._count(x), grad_output)
