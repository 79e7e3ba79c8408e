"""Fixtures of the browser tests: the app under test (``streamlit_app``) and a Chromium page (``page``).

The browser tests share the app tests' helpers (tiny model, starter documents) and ``browser_support``.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for folder in (ROOT, ROOT / "tests" / "ui", ROOT / "tests" / "e2e"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, StreamlitApp, app_env  # noqa: E402


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the test item, so fixtures can tell whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="module")
def streamlit_app() -> Iterator[Callable[..., StreamlitApp]]:
    """Make apps under test: ``streamlit_app(base, model, **KB_env)`` gives a :class:`StreamlitApp` whose store
    the module prepares (``app.kb("ingest", ...)``) before ``app.start()``; every app made is stopped when
    the module is done."""
    apps: list[StreamlitApp] = []

    def make(base: Path, model: Path, **extra_env: str) -> StreamlitApp:
        app = StreamlitApp(base, app_env(base, model, **extra_env))
        apps.append(app)
        return app

    try:
        yield make
    finally:
        for app in apps:
            app.stop()


@pytest.fixture
def page(server, request) -> Iterator:
    """A Chromium page (1400×1000, Dutch) on the module's ``server``; ``page.errors`` collects the page's
    JavaScript errors, ``page.outside`` every request to a host other than the app. On failure a screenshot
    and the server log go to ``test-artifacts/``."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="het Python-pakket playwright ontbreekt")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="nl-NL", accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(60_000)
        errors: list[str] = []
        outside: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None,
        )
        page.errors, page.outside = errors, outside
        try:
            yield page
        finally:
            report = getattr(request.node, "rep_call", None)
            if report is None or report.failed:
                ARTIFACTS.mkdir(exist_ok=True)
                name = request.node.name
                with contextlib.suppress(Exception):  # the page may be gone; the log still helps
                    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
                shutil.copyfile(server["log"], ARTIFACTS / f"{name}-streamlit.log")
            browser.close()
