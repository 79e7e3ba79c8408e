"""SamenWeten's Dutch retrieval and answering as LangChain components, for use in your own chains.

* :class:`SamenWetenRetriever` is a LangChain ``BaseRetriever``: ``retriever.invoke("vraag")`` returns
  ``Document``s (chunk text, with the hit's source, heading path, page, score and signals as metadata).
* :func:`answer_runnable` wraps the whole answer pipeline (condense → retrieve → refuse/compose → verify) as a
  ``Runnable`` that takes a question (or ``{"question", "history"}``) and returns the JSON of ``kb ask --json``.

Example::

    kb = KnowledgeBase()
    retriever = SamenWetenRetriever(search=kb.retriever.search, k=5)
    chain = retriever | (lambda docs: "\\n\\n".join(d.page_content for d in docs)) | my_prompt | my_llm
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from kb.answering.assistant import Assistant
from kb.answering.types import Turn
from kb.retrieval.types import Hit, SearchFilters


def hit_to_document(hit: Hit) -> Document:
    """A retrieved chunk as a LangChain ``Document``: its text, and everything else as metadata."""
    metadata = {key: value for key, value in hit.to_dict().items() if key != "text"}
    return Document(page_content=hit.chunk.text, metadata=metadata, id=hit.chunk.chunk_id)


class SamenWetenRetriever(BaseRetriever):
    """The SamenWeten retriever (Dutch analysis, article references, section diversity) for LangChain."""

    search: Callable[..., list[Hit]]
    """``Retriever.search`` of a knowledge base (``KnowledgeBase().retriever.search``)."""
    k: int = 5
    topic: str | None = None
    partner: str | None = None

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        filters = SearchFilters(topic=self.topic, partner=self.partner)
        return [hit_to_document(hit) for hit in self.search(query, k=self.k, filters=filters)]


def _turns(history: Any) -> list[Turn]:
    turns: list[Turn] = []
    for item in history or []:
        if isinstance(item, Turn):
            turns.append(item)
        elif isinstance(item, dict):
            turns.append(Turn(item["role"], str(item["content"])))
        else:  # a (role, content) pair
            role, content = item
            turns.append(Turn(role, str(content)))
    return turns


def answer_runnable(assistant: Assistant) -> Runnable[Any, dict[str, Any]]:
    """The answer pipeline as a ``Runnable``: ``str`` or ``{"question": str, "history": [...]}`` → answer JSON."""

    def run(value: Any) -> dict[str, Any]:
        if isinstance(value, str):
            question, history = value, []
        else:
            question, history = str(value["question"]), _turns(value.get("history"))
        return assistant.ask(question, history).complete().to_dict()

    return RunnableLambda(run, name="samenweten_answer")
