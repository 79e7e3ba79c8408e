"""Tests of kb.models.safety: model folders that would run code are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from models_support import safe_folder

from kb.models.errors import UnsafeModelError
from kb.models.safety import check_no_remote_code


def test_check_no_remote_code_accepts_plain_folder(tmp_path: Path) -> None:
    assert check_no_remote_code(safe_folder(tmp_path / "m")) is None


def test_check_no_remote_code_refuses_auto_map(tmp_path: Path) -> None:
    folder = safe_folder(tmp_path / "m")
    (folder / "config.json").write_text(json.dumps({"auto_map": {"AutoModel": "modeling_x.XModel"}}))
    with pytest.raises(UnsafeModelError, match="auto_map"):
        check_no_remote_code(folder)


def test_check_no_remote_code_refuses_python_files(tmp_path: Path) -> None:
    folder = safe_folder(tmp_path / "m")
    (folder / "sub").mkdir()
    (folder / "sub" / "custom_pooling.py").write_text("print('hoi')\n")
    with pytest.raises(UnsafeModelError, match="sub/custom_pooling.py"):
        check_no_remote_code(folder)


def test_check_no_remote_code_refuses_trust_remote_code(tmp_path: Path) -> None:
    folder = safe_folder(tmp_path / "m")
    (folder / "config_sentence_transformers.json").write_text(json.dumps({"model_kwargs": {"trust_remote_code": True}}))
    with pytest.raises(UnsafeModelError, match="trust_remote_code"):
        check_no_remote_code(folder)


def test_check_no_remote_code_refuses_custom_module(tmp_path: Path) -> None:
    folder = safe_folder(tmp_path / "m")
    (folder / "modules.json").write_text(json.dumps([{"idx": 0, "path": "", "type": "evil.Module"}]))
    with pytest.raises(UnsafeModelError, match="evil.Module"):
        check_no_remote_code(folder)


def test_check_no_remote_code_refuses_invalid_json(tmp_path: Path) -> None:
    folder = safe_folder(tmp_path / "m")
    (folder / "config.json").write_text("{niet af")
    with pytest.raises(UnsafeModelError, match="geen geldige JSON"):
        check_no_remote_code(folder)
