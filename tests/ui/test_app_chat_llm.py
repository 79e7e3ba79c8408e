"""LLM mode on the chat page: the streamed (unchecked) text is replaced by the verified answer when the
stream ends — removed markers and warnings show at once, not after the next rerun. A fake chat model."""

from __future__ import annotations

import pytest
from apptest_support import plain
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

pytestmark = pytest.mark.app  # AppTest runs the whole Streamlit app (or a page) on a real store

REPLY = "Een stichting heeft een bestuur dat beslist [1]. Dat staat ook in bron [9]."


def test_streamed_text_is_replaced_by_the_verified_answer(make_app_env, app_test, monkeypatch):
    make_app_env(KB_ANSWERER="openai", KB_LLM_BASE_URL="http://127.0.0.1:9/v1")
    monkeypatch.setattr(
        "kb.answering.assistant.make_chat_model",
        lambda settings: GenericFakeChatModel(messages=iter([AIMessage(content=REPLY)])),
    )
    at = app_test().run()
    at.chat_input[0].set_value("Wie beslist er in een stichting?").run()
    assert not at.exception
    _, assistant = at.chat_message
    shown = [plain(m.value) for m in assistant.markdown]
    answer = next(t for t in shown if "bestuur dat beslist" in t)
    assert "[1]" in answer and "[9]" not in answer  # the verified text: the invented source is gone
    assert not any("[9]" in t for t in shown)  # and the unchecked stream is no longer on screen
    assert any("9" in plain(c.value) for c in assistant.caption)  # the warning shows at once
