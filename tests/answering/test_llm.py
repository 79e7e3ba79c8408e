"""LLM answerers: building ChatOpenAI / ChatOllama from Settings (no server is contacted), the messages sent,
streaming, and the Dutch errors for a bad configuration or an unreachable model."""

from __future__ import annotations

import sys
import time

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk
from pydantic import ValidationError

from kb.answering.llm import LLMAnswerer, LLMError, _text, make_chat_model
from kb.answering.prompts import Prompts
from kb.answering.types import Turn
from kb.config import Settings
from kb.retrieval.types import Hit
from kb.store import StoredChunk

CLOSED_PORT = "http://127.0.0.1:9"  # the discard port: nothing listens there


def llm_settings(**kw) -> Settings:
    return Settings(_env_file=None, **kw)


def hit(n: int, title: str, text: str) -> Hit:
    chunk = StoredChunk(
        f"{title}::v::{n:05d}",
        title,
        text,
        "",
        title,
        f"{title}.md",
        "Partner A",
        "rechtsvorm",
        (title, "Leden"),
        None,
        None,
        n,
    )
    return Hit(n, 1.0, chunk)


HITS = [
    hit(1, "Stichting", "Een stichting heeft geen leden. Het bestuur beslist."),
    hit(2, "Vereniging", "Een vereniging heeft leden. De algemene vergadering kiest het bestuur."),
]


class Recording:
    """A chat model stand-in that records what it is sent."""

    def __init__(self, reply="Moet een stichting zich inschrijven?", pieces=()):
        self.reply = reply
        self.pieces = list(pieces)
        self.sent: list = []

    def invoke(self, messages):
        self.sent.append(messages)
        return AIMessage(content=self.reply)

    def stream(self, messages):
        self.sent.append(messages)
        yield from self.pieces


# ------------------------------------------------------------------------------------------ make_chat_model
def test_openai_model_is_built_from_settings():
    from langchain_openai import ChatOpenAI

    settings = llm_settings(
        answerer="openai",
        llm_base_url=f"{CLOSED_PORT}/v1",
        llm_model="qwen",
        llm_api_key="sleutel",
        llm_temperature=0.3,
        llm_max_tokens=321,
        llm_timeout=7.5,
    )
    model = make_chat_model(settings)
    assert isinstance(model, ChatOpenAI)
    assert model.openai_api_base == f"{CLOSED_PORT}/v1"
    assert model.model_name == "qwen"
    assert model.openai_api_key.get_secret_value() == "sleutel"
    assert model.temperature == 0.3 and model.max_tokens == 321
    assert model.request_timeout == 7.5 and model.max_retries == 1
    assert model.streaming is True


def test_openai_without_base_url_says_which_setting_is_missing():
    with pytest.raises(LLMError, match="KB_LLM_BASE_URL"):
        make_chat_model(llm_settings(answerer="openai"))


def test_ollama_model_is_built_from_settings():
    from langchain_ollama import ChatOllama

    settings = llm_settings(
        answerer="ollama",
        ollama_base_url=CLOSED_PORT,
        llm_model="llama3.1",
        llm_temperature=0.2,
        llm_max_tokens=222,
        llm_base_url="http://elders.invalid/v1",
    )
    model = make_chat_model(settings)
    assert isinstance(model, ChatOllama)
    assert model.base_url == CLOSED_PORT  # the Ollama URL, not the OpenAI one
    assert model.model == "llama3.1" and model.temperature == 0.2 and model.num_predict == 222


def test_ollama_model_honours_the_timeout():
    model = make_chat_model(llm_settings(answerer="ollama", ollama_base_url=CLOSED_PORT, llm_timeout=7.5))
    assert model._client._client.timeout.read == 7.5


def test_extractive_setting_has_no_chat_model():
    with pytest.raises(LLMError, match=r"geen LLM ingesteld \(KB_ANSWERER=extractive\)"):
        make_chat_model(llm_settings())


@pytest.mark.parametrize("answerer,module", [("openai", "langchain_openai"), ("ollama", "langchain_ollama")])
def test_missing_llm_extra_says_how_to_install_it(monkeypatch, answerer, module):
    monkeypatch.setitem(sys.modules, module, None)  # makes `from <module> import …` raise ImportError
    with pytest.raises(LLMError, match=r"pip install -e '\.\[llm\]'"):
        make_chat_model(llm_settings(answerer=answerer, llm_base_url=f"{CLOSED_PORT}/v1"))


@pytest.fixture
def clean_env(monkeypatch):
    import os

    for key in [k for k in os.environ if k.upper().startswith("KB_")]:
        monkeypatch.delenv(key)
    return monkeypatch


def test_configuration_from_the_environment(clean_env):
    monkeypatch = clean_env
    monkeypatch.setenv("KB_ANSWERER", "openai")
    monkeypatch.setenv("KB_LLM_BASE_URL", f"{CLOSED_PORT}/v1")
    monkeypatch.setenv("KB_LLM_MODEL", "smollm2")
    model = make_chat_model(Settings(_env_file=None))
    assert model.model_name == "smollm2" and model.openai_api_base == f"{CLOSED_PORT}/v1"


@pytest.mark.parametrize("env", [{"KB_ANSWERER": "gpt"}, {"KB_LLM_TEMPERATURE": "5"}, {"KB_LLM_TIMEOUT": "0"}])
def test_invalid_llm_setting_is_rejected_and_named(clean_env, env):
    monkeypatch = clean_env
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError) as info:
        Settings(_env_file=None)
    assert next(iter(env)).removeprefix("KB_").lower() in str(info.value)


def test_unreachable_openai_server_is_a_dutch_error():
    settings = llm_settings(answerer="openai", llm_base_url=f"{CLOSED_PORT}/v1", llm_timeout=2)
    answerer = LLMAnswerer(make_chat_model(settings), Prompts(settings.prompts_dir), name="openai")
    start = time.monotonic()
    with pytest.raises(LLMError, match="het taalmodel gaf geen antwoord") as info:
        list(answerer.stream("Heeft een stichting leden?", HITS))
    assert info.value.__cause__ is not None  # the original error is kept for the logs
    assert time.monotonic() - start < 10


# ------------------------------------------------------------------------------------------ LLMAnswerer
def test_messages_are_system_prompt_then_numbered_sources_and_question(settings):
    prompts = Prompts(settings.prompts_dir)
    system, human = LLMAnswerer(Recording(), prompts).messages("Heeft een stichting leden?", HITS)
    assert system == ("system", prompts.text("system_nl.txt"))
    role, text = human
    assert role == "human"
    one, two = text.index('<bron nummer="1">'), text.index('<bron nummer="2">')
    assert one < text.index("Een stichting heeft geen leden.") < two
    assert two < text.index("Een vereniging heeft leden.") < text.index("Vraag: Heeft een stichting leden?")


def test_stream_yields_the_model_text_in_pieces(settings):
    reply = "Een stichting heeft geen leden [1]. Het bestuur beslist [1]."
    model = GenericFakeChatModel(messages=iter([AIMessage(content=reply)]))
    pieces = list(LLMAnswerer(model, Prompts(settings.prompts_dir)).stream("Heeft een stichting leden?", HITS))
    assert len(pieces) > 1 and "".join(pieces) == reply


def test_stream_skips_empty_pieces_and_joins_content_blocks(settings):
    model = Recording(
        pieces=[
            AIMessageChunk(content=""),
            AIMessageChunk(content="Een stichting "),
            AIMessageChunk(content=[{"type": "text", "text": "heeft geen leden"}, {"type": "reasoning"}, " [1]."]),
        ]
    )
    pieces = list(LLMAnswerer(model, Prompts(settings.prompts_dir)).stream("Heeft een stichting leden?", HITS))
    assert pieces == ["Een stichting ", "heeft geen leden [1]."]


def test_model_failure_becomes_a_dutch_llm_error(settings):
    class Down:
        def stream(self, messages):
            yield AIMessageChunk(content="Een ")
            raise ConnectionError("verbinding geweigerd")

    stream = LLMAnswerer(Down(), Prompts(settings.prompts_dir)).stream("Heeft een stichting leden?", HITS)
    assert next(stream) == "Een "  # what arrived before the failure is still shown
    with pytest.raises(LLMError, match="het taalmodel gaf geen antwoord: verbinding geweigerd") as info:
        next(stream)
    assert isinstance(info.value.__cause__, ConnectionError)


def test_llm_error_passes_through_unwrapped(settings):
    class NotConfigured:
        def stream(self, messages):
            raise LLMError("geen LLM ingesteld")
            yield  # pragma: no cover

    with pytest.raises(LLMError) as info:
        list(LLMAnswerer(NotConfigured(), Prompts(settings.prompts_dir)).stream("Vraag?", HITS))
    assert str(info.value) == "geen LLM ingesteld"


def test_follow_up_rewrite_sends_the_recent_conversation(settings):
    model = Recording(reply="Moet een stichting zich inschrijven bij de KvK?")
    history = [
        Turn("user", f"Oude vraag {i}?") if i % 2 == 0 else Turn("assistant", f"Oud antwoord {i}.") for i in range(8)
    ]
    history[-2:] = [Turn("user", "Moet een vereniging zich inschrijven bij de KvK?"), Turn("assistant", "Ja [1].")]
    out = LLMAnswerer(model, Prompts(settings.prompts_dir)).rewrite_follow_up("En een stichting?", history)
    assert out == "Moet een stichting zich inschrijven bij de KvK?"
    [(role, prompt)] = model.sent[0]
    assert role == "human"
    assert "Gebruiker: Moet een vereniging zich inschrijven bij de KvK?\nAssistent: Ja [1]." in prompt
    assert "Vervolgvraag: En een stichting?" in prompt
    assert "Oude vraag 0?" not in prompt and "Oud antwoord 1." not in prompt  # only the last six turns
    assert "Oude vraag 2?" in prompt


def test_text_of_message_content():
    assert _text(AIMessage(content="tekst")) == "tekst"
    assert _text(AIMessage(content=[{"type": "text", "text": "a"}, "b", {"type": "image_url"}])) == "ab"
    assert _text("ruwe tekst") == "ruwe tekst"
    assert _text(42) == "42"
