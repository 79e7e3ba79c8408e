"""SamenWeten's retriever and answer pipeline inside a small LangChain chain."""

from __future__ import annotations

from langchain_core.documents import Document
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnablePassthrough

from kb.answering.assistant import Assistant
from kb.langchain_components import SamenWetenRetriever, answer_runnable


def _format(docs: list[Document]) -> str:
    return "\n\n".join(f"[{d.metadata['rank']}] {d.page_content}" for d in docs)


def test_retriever_returns_documents_with_source_metadata(small_kb):
    _, retriever = small_kb
    lc = SamenWetenRetriever(search=retriever.search, k=2)
    docs = lc.invoke("Heeft een stichting leden?")
    assert 1 <= len(docs) <= 2
    assert all(isinstance(d, Document) and d.page_content for d in docs)
    top = docs[0].metadata
    assert top["source"] == "stichting.md" and top["rank"] == 1 and "score" in top and "text" not in top
    assert top["section"][-1] == "Leden"


def test_retriever_applies_topic_filter(small_kb):
    _, retriever = small_kb
    docs = SamenWetenRetriever(search=retriever.search, k=5, topic="belasting").invoke("vereniging kantine")
    assert docs and {d.metadata["topic"] for d in docs} == {"belasting"}


def test_retriever_in_a_chain_with_a_chat_model(small_kb):
    _, retriever = small_kb
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Antwoord alleen uit de bronnen:\n{context}"), ("human", "{question}")]
    )
    seen: list[str] = []

    def capture(value):
        seen.append(value.to_string())
        return value

    model = FakeListChatModel(responses=["Nee, een stichting heeft geen leden [1]."])
    chain = (
        {"context": SamenWetenRetriever(search=retriever.search, k=2) | _format, "question": RunnablePassthrough()}
        | prompt
        | capture
        | model
        | StrOutputParser()
    )
    assert chain.invoke("Heeft een stichting leden?") == "Nee, een stichting heeft geen leden [1]."
    assert "Een stichting heeft geen leden" in seen[0], "de opgehaalde bron staat in de prompt"


def test_answer_runnable_returns_the_kb_ask_json(small_kb, settings, hashing_embedder):
    _, retriever = small_kb
    runnable = answer_runnable(Assistant(retriever, lambda: hashing_embedder, settings))
    out = runnable.invoke("Mag een vereniging winst verdelen onder de leden?")
    assert out["question"].startswith("Mag een vereniging") and not out["refused"]
    assert out["citations"] and out["citations"][0]["source"] == "vereniging.md"
    follow = runnable.invoke(
        {
            "question": "En een stichting?",
            "history": [{"role": "user", "content": out["question"]}, {"role": "assistant", "content": out["answer"]}],
        }
    )
    assert follow["standalone_query"] != "En een stichting?", "the history reaches the follow-up rewrite"
    assert "stichting" in follow["standalone_query"].lower()
