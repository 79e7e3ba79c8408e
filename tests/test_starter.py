"""`kb setup` finishes an interrupted starter load: a real `kb setup` process is stopped with SIGTERM halfway
through, says what it did and how to continue, and the next `kb setup` loads exactly what is missing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.process  # real `kb setup` processes, one stopped halfway

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ui"))

from apptest_support import build_tiny_model, model_texts  # noqa: E402

COPIES = 3  # the starter guides three times over (other file names): long enough to interrupt


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("model") / "tiny-static-nl", model_texts(ROOT))


def _env(tmp_path: Path, model: Path, starter: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update(
        KB_DATA_DIR=str(tmp_path / "data"),
        KB_EMBED_MODEL=str(model),
        KB_STARTER_KB_DIR=str(starter),
        KB_MODELS_DIR=str(tmp_path / "models"),
        PYTHONPATH=str(ROOT),
        KB_VECTOR_CACHE="false",
    )
    return env


def _starter(tmp_path: Path) -> tuple[Path, int]:
    starter = tmp_path / "starter"
    starter.mkdir()
    guides = sorted((ROOT / "knowledge_base").glob("*.md"))
    for copy in range(COPIES):
        for guide in guides:
            shutil.copyfile(guide, starter / f"{guide.stem}-{copy}.md")
    return starter, COPIES * len(guides)


def _stored_docs(env: dict[str, str]) -> int:
    out = subprocess.run(
        [sys.executable, "-m", "kb.cli", "docs", "list", "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return len(json.loads(out.stdout))


def _setup(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A real ``kb setup`` (without the model step) in a new process."""
    return subprocess.run(
        [sys.executable, "-m", "kb.cli", "setup", "--skip-model"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_interrupted_setup_is_completed_by_the_next_run(tmp_path, tiny_model):
    starter, total = _starter(tmp_path)
    env = _env(tmp_path, tiny_model, starter)
    originals = tmp_path / "data" / "store" / "originals"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kb.cli", "setup", "--skip-model"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if originals.exists() and sum(1 for _ in originals.iterdir()) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "kb setup was klaar voordat de test kon onderbreken"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Onderbroken:" in err and "kb setup" in err  # what was done, and how to continue
    assert "duurt ongeveer" in err  # it said up front what it would do and how long
    first = _stored_docs(env)
    assert 0 < first < total
    state = json.loads((tmp_path / "data" / "store" / "starter-state.json").read_text())
    assert state["status"] == "loading"

    again = _setup(env)
    assert again.returncode == 0, again.stderr
    assert "vorige keer onderbroken" in again.stderr
    loaded = total - first
    assert f"{loaded} {'document' if loaded == 1 else 'documenten'} ingelezen, {first} stonden er al" in again.stderr
    assert _stored_docs(env) == total
    assert json.loads((tmp_path / "data" / "store" / "starter-state.json").read_text())["status"] == "complete"

    third = _setup(env)
    assert third.returncode == 0 and "startkennisbank is compleet" in third.stderr


def test_setup_leaves_a_knowledge_base_with_other_documents_alone(tmp_path, tiny_model):
    starter, _ = _starter(tmp_path)
    env = _env(tmp_path, tiny_model, starter)
    own = tmp_path / "eigen.md"
    own.write_text("---\ntitle: Eigen notitie\n---\n\nOnze vereniging vergadert elke maand.\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "kb.cli", "ingest", str(own)], env=env, cwd=ROOT, check=True, capture_output=True
    )
    out = _setup(env)
    assert out.returncode == 0 and "er staan al andere documenten in" in out.stderr
    assert _stored_docs(env) == 1
