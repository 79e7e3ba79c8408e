"""Packed linear weights for questions (kb.models.packing) and the per-machine decision (kb.models.query_kernel).

No timing is asserted: the probe's timings are replaced by fixed figures where the decision logic is tested.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from kb.models import packing, query_kernel
from kb.models.query_kernel import QueryKernelDecision, apply_query_kernel, choose_kernel, read_kernel, write_kernel

needs_packing = pytest.mark.skipif(
    not packing.packing_supported(torch.float32), reason="this torch build cannot pack linear weights"
)


class TinyModel(torch.nn.Module):
    """Two linear layers (one with a bias) and a non-linear one in between; ``dtype`` like a SentenceTransformer."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.a = torch.nn.Linear(32, 48, bias=False)
        self.b = torch.nn.Linear(48, 16)

    @property
    def dtype(self) -> torch.dtype:
        return self.a.weight.dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(torch.nn.functional.gelu(self.a(x)))


def _encode(model: TinyModel):
    def encode(text: str) -> np.ndarray:
        torch.manual_seed(len(text))
        with torch.inference_mode():
            return model(torch.randn(1, len(text), 32, dtype=model.dtype)).mean(dim=1).float().numpy()

    return encode


def test_choose_kernel_packs_only_when_clearly_faster_and_equal() -> None:
    assert choose_kernel(0.80, 1.0)[0] == "packed"
    assert choose_kernel(query_kernel.PACKED_MARGIN, 1.0)[0] == "packed"
    assert choose_kernel(0.99, 1.0)[0] == "plain"  # a tie keeps the plain path (no second copy of the weights)
    assert choose_kernel(1.4, 1.0)[0] == "plain"
    assert choose_kernel(0.5, 0.999)[0] == "plain"  # faster but another vector: never
    assert choose_kernel(float("nan"), 1.0)[0] == "plain"
    assert choose_kernel(0.0, 1.0)[0] == "plain"


def test_kernel_decision_shares_the_precision_file(tmp_path: Path) -> None:
    from kb.precision import PrecisionDecision, read_decision, write_decision

    path = tmp_path / "model" / ".samenweten-precision.json"
    write_decision(path, PrecisionDecision("bfloat16", "proef", key="k1"))
    write_kernel(path, "k1:bfloat16", QueryKernelDecision("packed", "sneller", {"plain": 0.1, "packed": 0.08}))
    write_decision(path, PrecisionDecision("float32", "proef", key="k2"))  # a later precision write keeps it
    assert read_kernel(path, "k1:bfloat16").kernel == "packed"  # type: ignore[union-attr]
    assert read_kernel(path, "k1:float32") is None
    assert read_decision(path, "k1").dtype == "bfloat16"  # type: ignore[union-attr]
    assert read_decision(path, "k2").dtype == "float32"  # type: ignore[union-attr]
    path.write_text("{kapot")
    assert read_kernel(path, "k1:bfloat16") is None


@needs_packing
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_packed_layers_give_the_same_outputs_and_switch_off(dtype: torch.dtype) -> None:
    if not packing.packing_supported(dtype):
        pytest.skip(f"no packing for {dtype} on this CPU")
    model = TinyModel().to(dtype)
    small, large = torch.randn(1, 20, 32, dtype=dtype), torch.randn(2, packing.MAX_PACKED_ROWS, 32, dtype=dtype)
    with torch.inference_mode():
        before_small, before_large = model(small), model(large)
        assert packing.pack_linears(model) == 2 and packing.packed_layers(model) == 2
        after_small, after_large = model(small), model(large)  # large: over the row bound, the plain path
        packing.set_packed(model, False)
        assert packing.packed_layers(model) == 0
        off = model(small)
        packing.set_packed(model, True)
        assert packing.unpack(model) == 2 and "forward" not in model.a.__dict__
        unpacked = model(small)
    tol = 1e-5 if dtype == torch.float32 else 1e-2
    for a, b in (
        (before_small, after_small),
        (before_large, after_large),
        (before_small, off),
        (before_small, unpacked),
    ):
        assert torch.allclose(a.float(), b.float(), atol=tol)
    assert set(model.state_dict()) == {"a.weight", "b.weight", "b.bias"}  # nothing of the packing is saved


@needs_packing
def test_a_converted_model_does_not_use_its_stale_packed_weights() -> None:
    model = TinyModel()
    packing.pack_linears(model)
    model.to(torch.float64)  # new weight tensors: the packed copies no longer belong to them
    x = torch.randn(1, 5, 32, dtype=torch.float64)
    with torch.inference_mode():
        y = model(x)
    assert y.dtype == torch.float64  # the plain path ran (the packed op would have refused float64)


@needs_packing
def test_auto_probes_once_then_reads_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / ".samenweten-precision.json"
    calls: list[int] = []

    def fake_timing(encode, switch, questions=query_kernel.PROBE_QUESTIONS, rounds=3):
        calls.append(1)
        switch(True)
        encode(questions[0])
        return {"plain": 0.100, "packed": 0.080}, 0.8, 1.0

    monkeypatch.setattr(query_kernel, "time_kernels", fake_timing)
    model = TinyModel()
    first = apply_query_kernel(model, "auto", _encode(model), (path, "k:float32"))
    assert (first.kernel, first.source, first.layers, first.ratio) == ("packed", "probe", 2, 0.8)
    assert packing.packed_layers(model) == 2
    stored = json.loads(path.read_text())["query_kernels"]["k:float32"]
    assert stored["kernel"] == "packed" and stored["timings"] == {"plain": 0.1, "packed": 0.08}

    again = TinyModel()
    second = apply_query_kernel(again, "auto", _encode(again), (path, "k:float32"))
    assert (second.kernel, second.source) == ("packed", "cache") and len(calls) == 1
    assert packing.packed_layers(again) == 2


@needs_packing
def test_auto_keeps_the_plain_path_when_not_faster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        query_kernel, "time_kernels", lambda encode, switch, **_: ({"plain": 0.1, "packed": 0.1}, 1.0, 1.0)
    )
    model = TinyModel()
    decision = apply_query_kernel(model, "auto", _encode(model), (tmp_path / "p.json", "k:float32"))
    assert decision.kernel == "plain" and packing.packed_layers(model) == 0 and "forward" not in model.a.__dict__
    cached = TinyModel()
    assert apply_query_kernel(cached, "auto", _encode(cached), (tmp_path / "p.json", "k:float32")).source == "cache"
    assert packing.packed_layers(cached) == 0


@needs_packing
def test_settings_override_the_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(query_kernel, "time_kernels", lambda *a, **k: pytest.fail("no probe when set"))
    model = TinyModel()
    assert apply_query_kernel(model, "packed", _encode(model)).kernel == "packed"
    assert packing.packed_layers(model) == 2
    assert apply_query_kernel(model, "plain", _encode(model)).kernel == "plain"
    assert packing.packed_layers(model) == 0


@needs_packing
def test_the_real_probe_compares_both_paths_on_the_same_questions() -> None:
    """time_kernels itself (its figures are not asserted, only that both paths ran and agree)."""
    model = TinyModel()
    packing.pack_linears(model)
    seen: list[bool] = []

    def switch(on: bool) -> None:
        seen.append(on)
        packing.set_packed(model, on)

    timings, ratio, lowest = query_kernel.time_kernels(_encode(model), switch, rounds=2)
    assert set(timings) == {"plain", "packed"} and ratio > 0
    assert lowest > query_kernel.MIN_COSINE
    assert seen.count(True) == seen.count(False)  # as many blocks each way


def test_unsupported_dtype_stays_plain() -> None:
    model = TinyModel().to(torch.float64)
    decision = apply_query_kernel(model, "auto", _encode(model))
    assert (decision.kernel, decision.source) == ("plain", "unsupported")


def test_kb_models_list_reads_the_kernel_decided_for_the_cached_precision(tmp_path: Path) -> None:
    from kb import precision
    from kb.models.loading import query_kernel_status

    folder = tmp_path / "models" / "tiny"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"weights")
    assert query_kernel_status("tiny", tmp_path / "models", tmp_path / "data") is None
    key = precision.decision_key("tiny", precision.weights_identity(folder), precision.detect_cpu(), torch.__version__)
    path = precision.decision_path(folder, tmp_path / "data")
    precision.write_decision(path, precision.PrecisionDecision("bfloat16", "proef", key=key))
    assert query_kernel_status("tiny", tmp_path / "models", tmp_path / "data") is None  # precision only
    write_kernel(path, query_kernel.kernel_key(key, "float32"), QueryKernelDecision("plain", "ander dtype"))
    write_kernel(path, query_kernel.kernel_key(key, "bfloat16"), QueryKernelDecision("packed", "sneller"))
    status = query_kernel_status("tiny", tmp_path / "models", tmp_path / "data")
    assert status is not None and status.kernel == "packed"
