"""Settings: one place, KB_ environment variables, every one documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from kb.config import PROJECT_ROOT, Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_documented_in_the_readme_with_its_default():
    text = README.read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        env = f"KB_{name.upper()}"
        assert f"`{env}`" in text, f"{env} ontbreekt in de configuratietabel van README.md"
        row = next(line for line in text.splitlines() if line.startswith(f"| `{env}` |"))
        default = field.default
        if isinstance(default, Path) and default.is_absolute():
            default = default.relative_to(PROJECT_ROOT)  # paths inside the project are shown as ./data
        shown = {f"`{default}`", f"`./{default}`"}
        assert any(v in row for v in shown), f"README noemt een andere standaardwaarde voor {env}"


def test_environment_variables_with_the_kb_prefix_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("KB_TOP_K", "7")
    monkeypatch.setenv("KB_DATA_DIR", str(tmp_path))
    settings = Settings(_env_file=None)
    assert settings.top_k == 7
    assert settings.resolved_store_dir() == (tmp_path / "store").resolve()


def test_invalid_values_are_rejected(monkeypatch):
    monkeypatch.setenv("KB_TOP_K", "0")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)
