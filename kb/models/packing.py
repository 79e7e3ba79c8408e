"""Linear layers with their weights pre-packed for oneDNN, used for question-sized inputs only.

A question is embedded alone: a few dozen token rows go through every linear layer of the model. For so few
rows torch's plain ``F.linear`` was measured markedly slower per layer than oneDNN's linear on a weight laid out
for it once in advance (``torch.ops.mkldnn._reorder_linear_weight`` + ``_linear_pointwise``, the pair
torch's own compiler uses for frozen CPU models): bfloat16 34×768 @ 768×1152 took 205 µs against 144 µs on
the Sapphire Rapids test machine, with identical results. For thousands of rows (a batch of documents) the
plain path is as fast or faster, so the packed weight is used only up to :data:`MAX_PACKED_ROWS` rows and
every larger input keeps the original path (and the original weight, which stays where it is).

Whether packing pays on a machine is not assumed: :mod:`kb.models.query_kernel` times it once per machine,
model and precision, and :func:`set_packed` switches it on or off. The packed copy costs memory (the
linear weights once more: ~210 MB for EmbeddingGemma in bfloat16).
"""

from __future__ import annotations

import types
from typing import Any

# inputs with at most this many rows (tokens × sequences) take the packed weight: a question is 20–80 tokens
# with its prompt; the measured gain was at 1–64 rows, the plain path matched it from ~512 rows on
MAX_PACKED_ROWS = 256
_ATTR = "_samenweten_packed"


def packing_supported(dtype: Any) -> bool:
    """Whether this torch build can pack linear weights of ``dtype`` for oneDNN on this CPU."""
    import torch

    try:
        if not torch.backends.mkldnn.is_available():
            return False
        ops = torch.ops.mkldnn
        if not (hasattr(ops, "_reorder_linear_weight") and hasattr(ops, "_linear_pointwise")):
            return False
        if dtype == torch.bfloat16:
            return bool(ops._is_mkldnn_bf16_supported())
        return dtype == torch.float32
    except (AttributeError, RuntimeError):  # pragma: no cover - builds without these ops
        return False


def _packed_forward(self: Any, x: Any) -> Any:
    import torch
    import torch.nn.functional as F

    packed = getattr(self, _ATTR, None)
    if (
        packed is not None
        and packed["enabled"]
        and not torch.is_grad_enabled()
        and x.dim() >= 2
        and x.dtype == self.weight.dtype == packed["dtype"]
        and self.weight.data_ptr() == packed["source"]  # the weight was not moved or converted since
        and x.numel() // max(1, x.shape[-1]) <= MAX_PACKED_ROWS
    ):
        return torch.ops.mkldnn._linear_pointwise(x, packed["weight"], self.bias, "none", [], "")
    return F.linear(x, self.weight, self.bias)


def pack_linears(model: Any, batch_hint: int = 64) -> int:
    """Give every ``nn.Linear`` of ``model`` a packed copy of its weight (switched on); returns how many.

    The modules keep their type, parameters and ``state_dict``; only their ``forward`` is replaced (per
    instance). Layers already packed are re-packed (after a dtype change their old copy no longer applies).
    """
    import torch

    count = 0
    with torch.no_grad():
        for module in model.modules():
            if not isinstance(module, torch.nn.Linear) or module.weight.device.type != "cpu":
                continue
            weight = module.weight.detach()
            if not packing_supported(weight.dtype):
                continue
            setattr(
                module,
                _ATTR,
                {
                    "weight": torch.ops.mkldnn._reorder_linear_weight(weight, batch_hint),
                    "dtype": weight.dtype,
                    "source": weight.data_ptr(),
                    "enabled": True,
                },
            )
            module.forward = types.MethodType(_packed_forward, module)  # type: ignore[method-assign]
            count += 1
    return count


def set_packed(model: Any, enabled: bool) -> int:
    """Switch the packed path of ``model``'s packed layers on or off (the copies stay); returns how many."""
    count = 0
    for module in model.modules():
        packed = getattr(module, _ATTR, None)
        if packed is not None:
            packed["enabled"] = enabled
            count += 1
    return count


def unpack(model: Any) -> int:
    """Drop the packed copies: every layer back to its class's own ``forward``; returns how many were packed."""
    count = 0
    for module in model.modules():
        if getattr(module, _ATTR, None) is None:
            continue
        delattr(module, _ATTR)
        module.__dict__.pop("forward", None)
        count += 1
    return count


def packed_layers(model: Any) -> int:
    """How many layers of ``model`` currently take the packed path for small inputs."""
    return sum(1 for m in model.modules() if (p := getattr(m, _ATTR, None)) is not None and p["enabled"])
