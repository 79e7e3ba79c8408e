"""LLM answerers through LangChain chat models: Ollama, or any OpenAI-compatible endpoint."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kb.answering.prompts import Prompts
from kb.answering.types import Turn
from kb.config import Settings
from kb.errors import KbError
from kb.retrieval.types import Hit


class LLMError(KbError):
    """The LLM is not configured or cannot be reached; the message is Dutch."""


def make_chat_model(settings: Settings) -> Any:
    """A streaming LangChain chat model for the configured provider."""
    if settings.answerer == "openai":
        if not settings.llm_base_url:
            raise LLMError("KB_ANSWERER=openai vraagt ook KB_LLM_BASE_URL (bijv. http://127.0.0.1:8080/v1)")
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as exc:
            raise LLMError("installeer de LLM-extra: pip install -e '.[llm]'") from exc
        return ChatOpenAI(
            base_url=settings.llm_base_url,
            api_key=settings.llm_api_key,
            model=settings.llm_model,
            temperature=settings.llm_temperature,
            max_tokens=settings.llm_max_tokens,
            timeout=settings.llm_timeout,
            max_retries=1,
            streaming=True,
        )
    if settings.answerer == "ollama":
        try:
            from langchain_ollama import ChatOllama
        except ImportError as exc:
            raise LLMError("installeer de LLM-extra: pip install -e '.[llm]'") from exc
        return ChatOllama(
            base_url=settings.ollama_base_url,
            model=settings.llm_model,
            temperature=settings.llm_temperature,
            num_predict=settings.llm_max_tokens,
            client_kwargs={"timeout": settings.llm_timeout},
        )
    raise LLMError(f"geen LLM ingesteld (KB_ANSWERER={settings.answerer})")


def _text(chunk: Any) -> str:
    content = getattr(chunk, "content", chunk)
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content)


class LLMAnswerer:
    """Answers from the numbered sources with a chat model, streaming."""

    def __init__(self, chat_model: Any, prompts: Prompts, name: str = "llm") -> None:
        self.chat_model = chat_model
        self.prompts = prompts
        self.name = name

    def messages(self, question: str, hits: list[Hit]) -> list[tuple[str, str]]:
        user = self.prompts.render("answer_user_nl.txt", sources=self.prompts.sources_block(hits), question=question)
        return [("system", self.prompts.text("system_nl.txt")), ("human", user)]

    def stream(self, question: str, hits: list[Hit]) -> Iterator[str]:
        try:
            for chunk in self.chat_model.stream(self.messages(question, hits)):
                piece = _text(chunk)
                if piece:
                    yield piece
        except LLMError:
            raise
        except Exception as exc:
            raise LLMError(f"het taalmodel gaf geen antwoord: {exc}") from exc

    def rewrite_follow_up(self, question: str, history: list[Turn]) -> str:
        lines = [f"{'Gebruiker' if t.role == 'user' else 'Assistent'}: {t.content}" for t in history[-6:]]
        prompt = self.prompts.render("condense_nl.txt", history="\n".join(lines), question=question)
        return _text(self.chat_model.invoke([("human", prompt)]))
