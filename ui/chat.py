"""The chat page for volunteers (no login): ask, read the streamed answer with its sources, give feedback.

Every question and answer is stored with the ids and scores of its sources (``kb.db``), so staff can
review it; the volunteer stays anonymous. All text from documents and questions is shown escaped.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import streamlit as st

from kb.answering.types import Answer, Turn
from kb.config import TOPICS
from kb.errors import reason_for
from ui import resources
from ui.components import (
    SourceView,
    escape_markdown,
    escape_pieces,
    render_help,
    render_source_card,
    render_text,
)

log = logging.getLogger(__name__)

MESSAGES = "chat_messages"
CONVERSATION = "chat_conversation_id"
PENDING = "chat_pending_question"
TOPIC = "chat_topic"
MAX_QUESTION_CHARS = 1000
HISTORY_TURNS = 6

TOPIC_NL = {
    "rechtsvorm": "Rechtsvorm (vereniging, stichting, coöperatie)",
    "belasting": "Belasting en giften",
    "financiering": "Financiering",
    "overig": "Overig",
}
EXAMPLE_QUESTIONS = (
    "Wat is het verschil tussen een stichting en een vereniging?",
    "Hoe krijgt onze stichting de ANBI-status?",
    "Wanneer is een bestuurder van een vereniging persoonlijk aansprakelijk?",
    "Kunnen donateurs hun gift aan onze vereniging aftrekken?",
)
DISCLAIMER = (
    "SamenWeten geeft algemene informatie uit de kennisbank, geen juridisch of fiscaal advies. "
    "Controleer belangrijke beslissingen bij een notaris, de Belastingdienst of een adviseur."
)


# ------------------------------------------------------------------------------------ state
def _messages() -> list[dict[str, Any]]:
    return st.session_state.setdefault(MESSAGES, [])


def new_conversation() -> None:
    """Start afresh: clear the visible conversation and its stored id."""
    for key in [k for k in st.session_state if str(k).startswith(("feedback_", "fbcomment_"))]:
        del st.session_state[key]
    st.session_state[MESSAGES] = []
    st.session_state.pop(CONVERSATION, None)
    st.session_state.pop(PENDING, None)


def _ask_example(question: str) -> None:
    st.session_state[PENDING] = question


def history_turns(messages: list[dict[str, Any]]) -> list[Turn]:
    """The conversation so far, for follow-up questions (the last few turns)."""
    turns = [Turn(m["role"], m["content"]) for m in messages if m.get("content")]
    return turns[-HISTORY_TURNS:]


def assistant_entry(answer: Answer) -> dict[str, Any]:
    cited = {c.hit.chunk.chunk_id for c in answer.citations}
    consulted = []
    for hit in answer.hits:
        if hit.chunk.chunk_id not in cited and hit.chunk.title not in consulted:
            consulted.append(hit.chunk.title)
    return {
        "role": "assistant",
        "content": answer.text,
        "refused": answer.refused,
        "sources": [SourceView.from_citation(c) for c in answer.citations],
        "consulted": consulted[:4],
        "warnings": list(answer.warnings),
        "help": list(getattr(answer, "help", []) or []),
        "exchange_id": None,
    }


# ------------------------------------------------------------------------------------ storage
def _store(answer: Answer, topic: str | None) -> int | None:
    try:
        conversation_id, exchange_id = resources.chat_service().record(
            answer, st.session_state.get(CONVERSATION), topic
        )
        st.session_state[CONVERSATION] = conversation_id
        return exchange_id
    except Exception:  # the answer is still shown; only history and feedback are unavailable
        log.exception("storing the exchange failed")
        return None


def _on_feedback(exchange_id: int) -> None:
    value = st.session_state.get(f"feedback_{exchange_id}")
    try:
        comment = st.session_state.get(f"fbcomment_{exchange_id}")
        resources.chat_service().feedback(exchange_id, None if value is None else int(value), comment)
    except Exception as exc:
        log.exception("storing feedback failed")
        st.session_state[f"feedback_error_{exchange_id}"] = f"Je feedback kon niet worden opgeslagen: {reason_for(exc)}"


def _on_comment(exchange_id: int) -> None:
    value = st.session_state.get(f"feedback_{exchange_id}")
    if value is None:
        return
    _on_feedback(exchange_id)
    st.session_state[f"fbcomment_sent_{exchange_id}"] = True


# ------------------------------------------------------------------------------------ rendering
def directory_keys() -> set[str]:
    """The organisations in the partner directory (source cards link to their entries)."""
    try:
        from kb.services.partners import PartnersService

        return {e.org_key for e in PartnersService(resources.knowledge_base(), resources.db_engine()).raw_entries()}
    except Exception:  # the sources are still shown, without the links
        log.exception("reading the partner directory failed")
        return set()


def render_feedback(entry: dict[str, Any]) -> None:
    exchange_id = entry.get("exchange_id")
    if exchange_id is None:
        st.caption("Dit antwoord kon niet worden opgeslagen; feedback geven is daarom niet mogelijk.")
        return
    st.caption("Was dit antwoord nuttig?")
    value = st.feedback("thumbs", key=f"feedback_{exchange_id}", on_change=_on_feedback, args=(exchange_id,))
    error = st.session_state.pop(f"feedback_error_{exchange_id}", None)
    if error:
        st.error(escape_markdown(error))
    if value is not None:
        if st.session_state.get(f"fbcomment_sent_{exchange_id}"):
            st.caption("Bedankt voor je toelichting!")
        else:
            st.text_input(
                "Toelichting (optioneel)",
                key=f"fbcomment_{exchange_id}",
                max_chars=1000,
                placeholder="Wat miste je, of wat klopte er niet?",
            )
            st.button(
                "Toelichting versturen",
                key=f"fbsend_{exchange_id}",
                on_click=_on_comment,
                args=(exchange_id,),
            )


def render_assistant(entry: dict[str, Any], index: int, with_answer_text: bool = True) -> None:
    if with_answer_text:
        st.markdown(escape_markdown(entry["content"]))
    for warning in entry.get("warnings", []):
        st.caption(":warning: " + escape_markdown(warning))
    render_help(entry.get("help") or [])
    sources: list[SourceView] = entry.get("sources", [])
    if sources:
        st.markdown("**Bronnen**")
        chat = resources.chat_service()
        entries = directory_keys()
        for view in sources:
            render_source_card(view, key=f"src_{index}_{view.n}", load_full_text=chat.document_text,
                               partner_entries=entries)
    if entry.get("consulted") and not entry.get("refused"):
        st.caption("Ook geraadpleegd: " + "; ".join(escape_markdown(t) for t in entry["consulted"]))
    render_feedback(entry)


def _answer(question: str, topic: str | None) -> None:
    messages = _messages()
    history = history_turns(messages)
    messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        render_text(question)
    with st.chat_message("assistant"):
        try:
            with st.spinner("Ik zoek in de kennisbank…"):
                stream = resources.chat_service().ask(question, history, topic)
                pieces = iter(stream)
                first = next(pieces, "")
            shown = st.empty()  # the stream is unchecked text: replaced by the verified answer below
            with shown.container():
                st.write_stream(escape_pieces(itertools.chain([first], pieces)))
            answer = stream.answer
            if answer is None:
                raise RuntimeError("het antwoord is niet afgerond")
            shown.markdown(escape_markdown(answer.text))
        except Exception as exc:
            log.exception("answering failed")  # the details go to the log, the volunteer gets the reason
            messages.pop()
            st.error(
                "Er ging iets mis bij het beantwoorden van je vraag. " + escape_markdown(reason_for(exc))
            )
            return
        entry = assistant_entry(answer)
        entry["exchange_id"] = _store(answer, topic)
        messages.append(entry)
        render_assistant(entry, len(messages) - 1, with_answer_text=False)


def render() -> None:
    with st.sidebar:
        st.selectbox(
            "Onderwerp",
            ["", *TOPICS],
            key=TOPIC,
            format_func=lambda t: TOPIC_NL.get(t, t) if t else "Alle onderwerpen",
            help="Zoek alleen in documenten over dit onderwerp.",
        )
        st.button("Nieuw gesprek", on_click=new_conversation, icon=":material/add_comment:")

    st.title("Vraag het SamenWeten")
    st.caption(DISCLAIMER)
    topic = st.session_state.get(TOPIC) or None

    typed = st.chat_input("Stel je vraag over je vereniging, stichting of coöperatie…", max_chars=MAX_QUESTION_CHARS)
    question = (typed or st.session_state.pop(PENDING, None) or "").strip()

    messages = _messages()
    for index, message in enumerate(messages):
        with st.chat_message(message["role"]):
            if message["role"] == "user":
                render_text(message["content"])
            else:
                render_assistant(message, index)

    if not messages and not question:
        st.markdown("**Voorbeeldvragen**")
        columns = st.columns(2)
        for i, example in enumerate(EXAMPLE_QUESTIONS):
            columns[i % 2].button(
                example, key=f"example_{i}", on_click=_ask_example, args=(example,), width="stretch", wrap=True
            )

    if question:
        _answer(question[:MAX_QUESTION_CHARS], topic)


if __name__ == "__main__":
    render()
