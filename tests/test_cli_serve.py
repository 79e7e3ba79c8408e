"""``kb serve`` and ``kb search/ask --server``: the same answers from a process that keeps the model loaded."""

from __future__ import annotations

import json

import pytest
from test_cli import cli, docs, filled  # noqa: F401 - the in-process CLI fixtures (hashing model)

from kb.cli_serve import ServeError, remote, serve_in_thread
from kb.service import KnowledgeBase


@pytest.fixture
def served(filled):  # noqa: F811 - the imported fixture
    from kb.config import Settings

    kb = KnowledgeBase(Settings())
    server, url = serve_in_thread(kb)
    yield filled, url
    server.shutdown()
    server.server_close()


def test_search_and_ask_through_the_server_equal_the_local_commands(served):
    run, url = served
    rc, local, _ = run("search", "Heeft een stichting leden?", "--json")
    rc2, remote_out, err = run("search", "Heeft een stichting leden?", "--json", "--server", url)
    assert rc == rc2 == 0, err
    assert [h["chunk_id"] for h in json.loads(remote_out)] == [h["chunk_id"] for h in json.loads(local)]

    rc, local, _ = run("ask", "Heeft een stichting leden?", "--json")
    rc2, remote_out, err = run("ask", "Heeft een stichting leden?", "--json", "--server", url)
    assert rc == rc2 == 0, err
    assert json.loads(remote_out)["answer"] == json.loads(local)["answer"]

    rc, human, _ = run("ask", "Heeft een stichting leden?", "--server", url)
    assert rc == 0 and "Bronnen:" in human and "[1]" in human
    rc, human, _ = run("search", "Heeft een stichting leden?", "--server", url)
    assert rc == 0 and human.startswith("[1] ")


def test_batch_through_the_server(served):
    run, url = served
    rc, out, err = run(
        "ask", "--batch", "-", "--server", url, stdin="Heeft een stichting leden?\nWie kiest het bestuur?\n"
    )
    assert rc == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["question"] for line in lines] == ["Heeft een stichting leden?", "Wie kiest het bestuur?"]


def test_server_env_variable_and_clear_errors(served, monkeypatch):
    run, url = served
    monkeypatch.setenv("KB_SERVE_URL", url)
    rc, out, err = run("search", "Heeft een stichting leden?", "--json")
    assert rc == 0 and json.loads(out)
    with pytest.raises(ServeError, match="weigerde het verzoek: geef een vraag"):
        remote(url, "/ask", {"question": " "})
    rc, _, err = run("ask", "Heeft een stichting leden?", "--server", "http://127.0.0.1:9")
    assert rc == 1 and "geen 'kb serve' bereikbaar op http://127.0.0.1:9" in err and "kb serve" in err
