"""Precision per machine: capabilities, the probe's verdict, the cached decision (fake CPUs and timings)."""

from __future__ import annotations

import json

import pytest

from kb import precision
from kb.precision import CpuInfo, choose, cpu_flags, cpu_model_name, decide, read_decision, write_decision

EPYC = """processor\t: 0
model name\t: AMD EPYC 7B13
flags\t\t: fpu sse2 avx avx2 fma bmi2
"""
XEON = """processor\t: 0
model name\t: Intel(R) Xeon(R) Processor
flags\t\t: fpu avx2 avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8
"""


def cpu(text: str, capability: str = "AVX2") -> CpuInfo:
    return precision.detect_cpu(text, capability)


def test_flags_and_model_name_are_read_from_cpuinfo():
    assert cpu_model_name(EPYC) == "AMD EPYC 7B13"
    assert cpu_flags(EPYC) == ("avx2",)
    assert set(cpu_flags(XEON)) >= {"avx512_bf16", "amx_bf16", "avx2"}


def test_without_native_bf16_float32_is_chosen_without_a_probe():
    calls: list[str] = []
    d = decide("gemma", "sha256:x", cpu(EPYC), lambda dt: calls.append(dt) or {"document": 1.0}, "2.13.0")
    assert d.dtype == "float32" and d.source == "capabilities" and calls == []
    assert "geen native bfloat16" in d.reason


@pytest.mark.parametrize("bf16,expected", [(0.5, "bfloat16"), (0.89, "bfloat16"), (0.95, "float32"), (5.3, "float32")])
def test_with_native_bf16_the_probe_decides(bf16, expected):
    timings = {"float32": 1.0, "bfloat16": bf16}
    calls: list[str] = []

    def probe(dtype: str) -> dict[str, float]:
        calls.append(dtype)
        return {"document": timings[dtype], "query": timings[dtype] / 10}

    d = decide("gemma", "sha256:x", cpu(XEON, "AVX512"), probe, "2.13.0")
    assert calls == ["float32", "bfloat16"]
    assert d.dtype == expected and d.source == "probe"
    assert d.probe["document_s_per_text"] == timings


def test_torch_capability_alone_also_counts_as_native_bf16():
    assert precision.candidates(cpu(EPYC, "AMX")) == ["float32", "bfloat16"]
    assert precision.candidates(cpu(EPYC, "AVX2")) == ["float32"]


def test_a_tie_goes_to_float32_and_missing_timings_too():
    assert choose({"float32": 1.0, "bfloat16": 1.0})[0] == "float32"
    assert choose({"float32": 1.0})[0] == "float32"


def test_decision_is_cached_per_model_weights_and_cpu(tmp_path):
    path = tmp_path / precision.DECISION_NAME
    xeon = decide("gemma", "sha256:x", cpu(XEON), lambda dt: {"document": 1.0 if dt == "float32" else 0.5}, "2.13.0")
    write_decision(path, xeon)
    epyc = decide("gemma", "sha256:x", cpu(EPYC), None, "2.13.0")
    write_decision(path, epyc)  # a second machine sharing the models folder
    assert read_decision(path, xeon.key).dtype == "bfloat16"
    assert read_decision(path, epyc.key).dtype == "float32"
    other_weights = precision.decision_key("gemma", "sha256:changed", cpu(XEON), "2.13.0")
    assert read_decision(path, other_weights) is None
    assert len(json.loads(path.read_text())["decisions"]) == 2


def test_a_broken_decision_file_is_ignored(tmp_path):
    path = tmp_path / precision.DECISION_NAME
    path.write_text("{niet json")
    assert read_decision(path, "k") is None


def test_decision_goes_next_to_the_model_or_to_the_fallback_when_read_only(tmp_path, monkeypatch):
    folder = tmp_path / "models" / "gemma"
    folder.mkdir(parents=True)
    assert precision.decision_path(folder, tmp_path / "data") == folder / precision.DECISION_NAME
    monkeypatch.setattr(precision.os, "access", lambda p, mode: False)
    assert precision.decision_path(folder, tmp_path / "data") == tmp_path / "data" / "precision" / "gemma.json"


def test_weights_identity_uses_the_install_marker_sha256s(tmp_path):
    from kb.models.installed import MARKER_NAME

    folder = tmp_path / "m"
    folder.mkdir()
    (folder / MARKER_NAME).write_text(json.dumps({"files": {"model.safetensors": {"sha256": "aa", "size": 1}}}))
    first = precision.weights_identity(folder)
    (folder / MARKER_NAME).write_text(json.dumps({"files": {"model.safetensors": {"sha256": "bb", "size": 1}}}))
    assert precision.weights_identity(folder) != first


def test_weights_identity_of_a_folder_without_marker_hashes_its_files(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"1234")
    first = precision.weights_identity(folder)
    (folder / "model.safetensors").write_bytes(b"1235")
    assert precision.weights_identity(folder) != first and first.startswith("sha256:")


def test_time_encoder_returns_seconds_per_text():
    seen: list[int] = []
    per_text = precision.time_encoder(lambda texts: seen.append(len(texts)), ["a", "b"], rounds=3)
    assert seen == [1, 2, 2, 2] and per_text >= 0
