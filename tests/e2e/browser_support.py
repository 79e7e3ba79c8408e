"""What the browser tests share: Debian's Chromium, the app served by ``streamlit run app.py`` on a free
loopback port with a temporary knowledge base, and waiting for Streamlit to finish a run or an answer.

The fixtures that use these (``streamlit_app``, ``page``) are in ``conftest.py``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NEEDS_CHROMIUM = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's Chromium (/usr/bin/chromium) is niet geïnstalleerd: "
    "installeer het met 'apt-get install chromium' om de browsertest te draaien",
)
STREAMLIT_OPTIONS = [
    "--server.address",
    "127.0.0.1",
    "--server.headless",
    "true",
    "--browser.gatherUsageStats",
    "false",
    "--server.fileWatcherType",
    "none",
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_env(base: Path, model: Path, **extra_env: str) -> dict[str, str]:
    """The environment of the app and of the ``kb`` commands that prepare its store: everything under
    ``base``, the given embedding model, no store, database or server from the caller's environment."""
    env = {
        **os.environ,
        "KB_DATA_DIR": str(base / "data"),
        "KB_EMBED_MODEL": str(model),
        "KB_STARTER_KB_DIR": str(base / "starter"),
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "PYTHONPATH": str(ROOT),
        **extra_env,
    }
    for name in ("KB_STORE_DIR", "KB_DATABASE_URL", "KB_CHROMA_HOST", "KB_MODELS_DIR"):
        env.pop(name, None)
    return env


@dataclass
class StreamlitApp:
    """One app: prepare its store with :meth:`kb`, then :meth:`start` it; the ``streamlit_app`` fixture stops it."""

    base: Path
    env: dict[str, str]
    log: Path = field(init=False)
    url: str = ""
    process: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        self.log = self.base / "streamlit.log"

    @property
    def database(self) -> str:
        return f"sqlite:///{(self.base / 'data' / 'samenweten.db').resolve()}"

    def kb(self, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
        """Run a ``kb`` command on this app's store (raises when it fails)."""
        return subprocess.run(
            [sys.executable, "-m", "kb.cli", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            timeout=timeout,
        )

    def start(self) -> str:
        """Start ``streamlit run app.py`` and wait until it answers its health check; returns its URL."""
        port = free_port()
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), *STREAMLIT_OPTIONS],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.url = f"http://127.0.0.1:{port}"
        self._wait_healthy()
        return self.url

    def _wait_healthy(self, attempts: int = 240) -> None:
        assert self.process is not None
        for _ in range(attempts):  # bounded: at most about two minutes
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit stopte direct:\n{self.log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.read().decode().strip() == "ok":
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"streamlit werd niet gezond:\n{self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


# ------------------------------------------------------------------------------------ in the page
def wait_idle(page) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)


STREAM_PROBE = """() => {
  window.__answerLengths = [];
  const probe = new MutationObserver(() => {
    const messages = document.querySelectorAll('[data-testid="stChatMessage"]');
    const last = messages[messages.length - 1];
    if (last && last.querySelector('[data-testid="stChatMessageAvatarAssistant"]')) {
      window.__answerLengths.push(last.innerText.length);
    }
  });
  probe.observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


ANSWER_DONE = """(question) => {
  const messages = [...document.querySelectorAll('[data-testid="stChatMessage"]')];
  if (messages.length < 2) return false;
  const [asked, answer] = messages.slice(-2);
  return asked.innerText.includes(question)
    && !!answer.querySelector('[data-testid="stChatMessageAvatarAssistant"]')
    && !!answer.querySelector('[data-testid="stButtonGroup"]');
}"""


def ask(page, question: str, watch_stream: bool = False):
    """Type a question, wait for the finished answer; returns the assistant's message locator.

    With ``watch_stream``, ``window.__answerLengths`` records the answer's length after each change of the page
    while it streams in (a MutationObserver that stays on the page: only where a test reads it)."""
    if watch_stream:
        page.evaluate(STREAM_PROBE)
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    # the feedback widget appears once the answer is complete and stored
    page.wait_for_function(ANSWER_DONE, arg=question, timeout=120_000)
    wait_idle(page)
    return page.get_by_test_id("stChatMessage").last
