"""Adam on the SAE tensors with unit-norm decoder rows; the learning-rate schedule."""

from __future__ import annotations

import math

import torch

from emergence.sae.loss import SaeParams


class ConstrainedAdam:
    """Adam over the SAE tensors that keeps every decoder row on the unit sphere.

    Before the update the radial component of each decoder row's gradient is removed (it would
    only change the norm, which the renormalisation undoes anyway, and it would pollute Adam's
    second-moment estimate); after the update the rows are renormalised. The gradients are read
    from ``grads``, which the loss overwrites in place each step.

    The update is torch's fused Adam kernel (the one behind ``torch.optim.Adam(fused=True)``),
    called directly: on these small tensors the optimiser's Python bookkeeping costs more than
    the arithmetic. Where that kernel is unavailable, a multi-tensor fallback does the same maths.
    """

    def __init__(
        self, params: SaeParams, grads: SaeParams, beta1: float, beta2: float, eps: float
    ) -> None:
        self.params, self.grads = list(params), list(grads)
        self.W_dec_HD, self.g_dec_HD = params.W_dec_HD, grads.W_dec_HD
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0
        self._steps = [torch.zeros((), device=p.device) for p in self.params]
        self._fused = hasattr(torch, "_fused_adam_") and params.W_dec_HD.device.type in (
            "cpu",
            "cuda",
        )

    @torch.no_grad()
    def step(self, lr: float) -> None:
        radial_H = torch.linalg.vecdot(self.g_dec_HD, self.W_dec_HD)
        self.g_dec_HD.addcmul_(radial_H[:, None], self.W_dec_HD, value=-1.0)
        self.t += 1
        if self._fused:
            torch._foreach_add_(self._steps, 1.0)
            torch._fused_adam_(
                self.params,
                self.grads,
                self.m,
                self.v,
                [],
                self._steps,
                lr=lr,
                beta1=self.beta1,
                beta2=self.beta2,
                weight_decay=0.0,
                eps=self.eps,
                amsgrad=False,
                maximize=False,
            )
        else:
            self._step_foreach(lr)
        self.W_dec_HD.div_(
            torch.linalg.vector_norm(self.W_dec_HD, dim=-1, keepdim=True).clamp_min_(1e-12)
        )

    def _step_foreach(self, lr: float) -> None:
        torch._foreach_lerp_(self.m, self.grads, 1.0 - self.beta1)
        torch._foreach_mul_(self.v, self.beta2)
        torch._foreach_addcmul_(self.v, self.grads, self.grads, 1.0 - self.beta2)
        denom = torch._foreach_sqrt(self.v)
        torch._foreach_div_(denom, math.sqrt(1.0 - self.beta2**self.t))
        torch._foreach_add_(denom, self.eps)
        torch._foreach_addcdiv_(self.params, self.m, denom, -lr / (1.0 - self.beta1**self.t))


def lr_at(step: int, n_steps: int, lr: float, warmup_steps: int, decay_frac: float) -> float:
    """Linear warmup from 0, constant, then linear decay to 0 over the last ``decay_frac``."""
    warm = min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else 1.0
    decay_steps = decay_frac * n_steps
    decay = min(1.0, (n_steps - step) / decay_steps) if decay_steps > 0 else 1.0
    return lr * min(warm, decay)
