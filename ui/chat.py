"""The chat page for volunteers (no login): ask, read the streamed answer with its sources, give feedback.

Every question and answer is stored with the ids and scores of its sources (``kb.db``), so staff can
review it; the volunteer stays anonymous. Answers and sources are rendered as safe Markdown (tables and
lists as such, everything from documents and questions escaped: :mod:`ui.safe_markdown`). The browser keeps
the ids of its recent conversations, so a reload or a later visit can reopen them (``?gesprek=<id>`` keeps
the current one across a reload).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import streamlit as st

from kb.answering.types import Answer, Turn
from kb.config import TOPICS
from kb.errors import reason_for
from kb.services import ChatService
from ui import browser, resources
from ui.components import (
    TOPIC_NL,
    SourceView,
    escape_markdown,
    local_time,
    render_answer,
    render_help,
    render_source_card,
    render_text,
    rich_text,
    scrollable_tables,
    show_full_text,
    topic_label,
)

log = logging.getLogger(__name__)

MESSAGES = "chat_messages"
CONVERSATION = "chat_conversation_id"
PENDING = "chat_pending_question"
TOPIC = "chat_topic"
RECENT = "chat_recent_ids"
SCROLL = "chat_scroll_to_answer"
_PAGE_RUN = "chat_start_up_in_page_run"  # set while the page (not the notice alone) runs
RECENT_COOKIE = "samenweten_gesprekken"
RECENT_COOKIE_SECONDS = 90 * 24 * 3600
CONVERSATION_PARAM = "gesprek"
MAX_QUESTION_CHARS = 1000
HISTORY_TURNS = 6
MAX_SUGGESTIONS = 3
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_SUGGESTION_LINE = re.compile(r"^\s*-\s+(?P<title>.+?)(?: \((?P<where>[^()]*)\))?\s*$")

__all__ = ["TOPIC_NL"]  # kept importable from here for older callers
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
STARTING = "SamenWeten is bezig met opstarten: het taalmodel en de kennisbank worden geladen."


# ------------------------------------------------------------------------------------ state
def _messages() -> list[dict[str, Any]]:
    return st.session_state.setdefault(MESSAGES, [])


def new_conversation() -> None:
    """Start afresh: clear the visible conversation, its stored id and the topic filter."""
    for key in [k for k in st.session_state if str(k).startswith(("feedback_", "fbcomment_", "fbcomment_sent_"))]:
        del st.session_state[key]
    st.session_state[MESSAGES] = []
    st.session_state.pop(CONVERSATION, None)
    st.session_state.pop(PENDING, None)
    st.session_state[TOPIC] = ""
    st.query_params.pop(CONVERSATION_PARAM, None)


def _ask_example(question: str) -> None:
    st.session_state[PENDING] = question


def history_turns(messages: list[dict[str, Any]]) -> list[Turn]:
    """The conversation so far, for follow-up questions (the last few turns)."""
    turns = [Turn(m["role"], m["content"]) for m in messages if m.get("content")]
    return turns[-HISTORY_TURNS:]


def _record(doc_id: str) -> Any:
    try:
        return resources.knowledge_base().store.get_document(doc_id)
    except Exception:  # dates and the official link are extras; the card works without them
        log.exception("document metadata unavailable")
        return None


def suggestions_of(answer: Answer) -> list[SourceView]:
    """The sources a refusal lists under "Misschien nuttig" (as the answerer chose them), at most three."""
    if not answer.refused:
        return []
    listed = getattr(answer, "suggestions", None)
    if listed is not None:  # an answerer that provides them explicitly
        hits = list(listed)
    else:
        text = answer.text.split("\n")
        start = next(
            (i for i, line in enumerate(text) if line.strip().endswith(":") and "nuttig" in line.lower()), None
        )
        titles = []
        for line in text[start + 1 :] if start is not None else []:
            match = _SUGGESTION_LINE.match(line)
            if not match:
                break
            titles.append((match.group("title"), match.group("where")))
        hits = []
        for title, where in titles:
            for hit in answer.hits:
                c = hit.chunk
                if c.title == title and (where is None or where in (c.section[-1:] or [c.title])) and hit not in hits:
                    hits.append(hit)
                    break
    return [
        SourceView.from_chunk(i + 1, h.chunk, "", _record(h.chunk.doc_id)) for i, h in enumerate(hits[:MAX_SUGGESTIONS])
    ]


def help_routes(answer: Answer) -> list[dict[str, Any]]:
    """Organisations that can help (from the partner directory, when the answer provides them)."""
    routes = getattr(answer, "help", None) or []
    out = []
    for entry in routes:
        data = entry if isinstance(entry, dict) else getattr(entry, "__dict__", {})
        if data.get("organisation"):
            out.append(dict(data))
    return out


def refusal_text(answer: Answer) -> str:
    """A refusal's own text, without the "Misschien nuttig" list (shown as buttons instead)."""
    lines = answer.text.split("\n")
    for i, line in enumerate(lines):
        if line.strip().endswith(":") and "nuttig" in line.lower():
            return "\n".join(lines[:i]).rstrip()
    return answer.text


def assistant_entry(answer: Answer) -> dict[str, Any]:
    cited = {c.hit.chunk.chunk_id for c in answer.citations}
    cited_docs = {c.hit.chunk.doc_id for c in answer.citations}
    consulted: list[str] = []
    for hit in answer.hits:
        chunk = hit.chunk
        if chunk.chunk_id not in cited and chunk.doc_id not in cited_docs and chunk.title not in consulted:
            consulted.append(chunk.title)
    records = {c.hit.chunk.doc_id: _record(c.hit.chunk.doc_id) for c in answer.citations}
    return {
        "role": "assistant",
        "content": refusal_text(answer) if answer.refused else answer.text,
        "refused": answer.refused,
        "sources": [SourceView.from_citation(c, records.get(c.hit.chunk.doc_id)) for c in answer.citations],
        "consulted": consulted[:4],
        # a refusal states its reason in its text; "geweigerd: …" would say it a second time
        "warnings": [w for w in answer.warnings if not (answer.refused and w.startswith("geweigerd"))],
        "suggestions": suggestions_of(answer),
        "help": help_routes(answer),
        "exchange_id": None,
    }


# ------------------------------------------------------------------------------------ recent conversations
def recent_ids() -> list[str]:
    """This browser's recent conversation ids (from its cookie at page load, then kept in the session)."""
    if RECENT not in st.session_state:
        raw = browser.cookie(RECENT_COOKIE) or ""
        st.session_state[RECENT] = [i for i in raw.split(",") if _UUID.fullmatch(i)][: ChatService.max_recent]
    return st.session_state[RECENT]


def _remember(conversation_id: str) -> None:
    ids = [conversation_id] + [i for i in recent_ids() if i != conversation_id]
    st.session_state[RECENT] = ids[: ChatService.max_recent]


def open_conversation(conversation_id: str) -> bool:
    """Load a stored conversation into the page; False when it is not there (any more)."""
    try:
        exchanges, topic = resources.chat_service().conversation(conversation_id)
    except Exception:
        log.exception("reopening a conversation failed")
        return False
    if not exchanges:
        return False
    new_conversation()
    store = resources.knowledge_base().store
    messages: list[dict[str, Any]] = []
    for exchange in exchanges:
        messages.append({"role": "user", "content": exchange.question})
        chunk_ids = [str(c["chunk_id"]) for c in exchange.citations if c.get("chunk_id")]
        try:
            chunks = {c.chunk_id: c for c in store.get_chunks(chunk_ids)} if chunk_ids else {}
        except Exception:
            log.exception("chunks of a reopened conversation unavailable")
            chunks = {}
        sources = [
            SourceView.from_chunk(int(c["n"]), chunks[c["chunk_id"]], c.get("quote") or "", _record(c["doc_id"]))
            for c in exchange.citations
            if c.get("chunk_id") in chunks
        ]
        cited_docs = {c.get("doc_id") for c in exchange.citations}
        consulted = list(dict.fromkeys(s["title"] for s in exchange.sources if s.get("doc_id") not in cited_docs))
        messages.append(
            {
                "role": "assistant",
                "content": exchange.answer,
                "refused": exchange.refused,
                "sources": sources,
                "consulted": consulted[:4],
                "warnings": [],
                "suggestions": [],
                "help": [],
                "exchange_id": exchange.id,
            }
        )
        if exchange.feedback is not None:
            st.session_state[f"feedback_{exchange.id}"] = 1 if exchange.feedback > 0 else 0
    st.session_state[MESSAGES] = messages
    st.session_state[CONVERSATION] = conversation_id
    st.session_state[TOPIC] = topic if topic in TOPICS else ""
    st.query_params[CONVERSATION_PARAM] = conversation_id
    _remember(conversation_id)
    return True


def _on_open(conversation_id: str) -> None:
    if not open_conversation(conversation_id):
        st.session_state[RECENT] = [i for i in recent_ids() if i != conversation_id]
        st.toast("Dit gesprek is niet meer beschikbaar.")


def render_recent() -> None:
    ids = recent_ids()
    browser.set_cookie(RECENT_COOKIE, ",".join(ids), RECENT_COOKIE_SECONDS)
    others = [i for i in ids if i != st.session_state.get(CONVERSATION)]
    if not others:
        return
    try:
        summaries = resources.chat_service().recent_conversations(others)
    except Exception:
        log.exception("recent conversations unavailable")
        return
    if not summaries:
        return
    st.markdown("**Recente gesprekken**")
    st.caption("Alleen in deze browser bewaard.")
    for summary in summaries:
        question = summary.first_question if len(summary.first_question) <= 60 else summary.first_question[:57] + "…"
        st.button(
            question,
            key=f"open_{summary.id}",
            on_click=_on_open,
            args=(summary.id,),
            help=f"{local_time(summary.last_at)} · {summary.questions} "
            f"{'vraag' if summary.questions == 1 else 'vragen'}",
            width="stretch",
            icon=":material/history:",
        )


# ------------------------------------------------------------------------------------ storage
def _store(answer: Answer, topic: str | None) -> int | None:
    try:
        conversation_id, exchange_id = resources.chat_service().record(
            answer, st.session_state.get(CONVERSATION), topic
        )
        st.session_state[CONVERSATION] = conversation_id
    except Exception:  # the answer is still shown; only history and feedback are unavailable
        log.exception("storing the exchange failed")
        return None
    _remember(conversation_id)
    st.query_params[CONVERSATION_PARAM] = conversation_id
    return exchange_id


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
FEEDBACK_OPTIONS = (1, 0)  # the values of st.feedback("thumbs"): 1 = nuttig, 0 = niet nuttig
FEEDBACK_LABELS = {1: ":material/thumb_up: Nuttig", 0: ":material/thumb_down: Niet nuttig"}


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
    # Dutch names for screen readers: the buttons are labelled "Nuttig" / "Niet nuttig" (st.feedback says
    # "Thumbs up/down")
    value = st.segmented_control(
        "Was dit antwoord nuttig?",
        FEEDBACK_OPTIONS,
        format_func=lambda value: FEEDBACK_LABELS[value],
        key=f"feedback_{exchange_id}",
        on_change=_on_feedback,
        args=(exchange_id,),
    )
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


def render_refusal_help(entry: dict[str, Any], index: int) -> None:
    suggestions: list[SourceView] = entry.get("suggestions") or []
    if suggestions:
        st.markdown("**Misschien nuttig**")
        store = resources.knowledge_base().store
        for view in suggestions:
            label = view.title + (f" — {view.where}" if view.where else "")
            if st.button(
                label,
                key=f"suggest_{index}_{view.n}",
                icon=":material/menu_book:",
                help="Lees deze tekst uit de kennisbank.",
            ):
                show_full_text(view, store.document_text)


def render_assistant(entry: dict[str, Any], index: int, with_answer_text: bool = True) -> None:
    sources: list[SourceView] = entry.get("sources", [])
    if with_answer_text:
        render_answer(entry["content"], sources)
    for warning in entry.get("warnings", []):
        st.caption(":warning: " + escape_markdown(warning))
    render_help(entry.get("help") or [])
    if entry.get("refused"):
        render_refusal_help(entry, index)
    if sources:
        st.markdown("**Bronnen**")
        chat = resources.chat_service()
        entries = directory_keys()
        for view in sources:
            render_source_card(
                view, key=f"src_{index}_{view.n}", load_full_text=chat.document_text, partner_entries=entries
            )
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
        placeholder = st.empty()
        try:
            warm = resources.warm_up()
            if not warm.ready:
                with st.spinner(STARTING):
                    warm.wait()
            with st.spinner("Ik zoek in de kennisbank…"):
                stream = resources.chat_service().ask(question, history, topic)
                pieces = iter(stream)
                shown = next(pieces, "")
            placeholder.markdown(rich_text(shown))
            for piece in pieces:
                shown += piece
                placeholder.markdown(rich_text(shown))
            answer = stream.answer
            if answer is None:
                raise RuntimeError("het antwoord is niet afgerond")
        except Exception as exc:
            log.exception("answering failed")  # the details go to the log, the volunteer gets the reason
            messages.pop()
            placeholder.empty()
            st.error("Er ging iets mis bij het beantwoorden van je vraag. " + escape_markdown(reason_for(exc)))
            return
        entry = assistant_entry(answer)
        with placeholder.container():
            render_answer(entry["content"], entry["sources"])
        entry["exchange_id"] = _store(answer, topic)
        messages.append(entry)
        render_assistant(entry, len(messages) - 1, with_answer_text=False)
    st.session_state[SCROLL] = True


def render_topic_filter(topic: str | None) -> None:
    """Say that the topic filter is on, and what it leaves out."""
    if not topic:
        return
    try:
        records = resources.knowledge_base().store.list_documents()
    except Exception:
        records = []
    inside = sum(1 for r in records if r.topic == topic)
    outside = len(records) - inside
    text = f"Onderwerpfilter aan: je zoekt alleen in **{escape_markdown(topic_label(topic))}** ({inside} {documents_word(inside)})."
    if outside:
        text += f" {outside} {documents_word(outside)} over andere onderwerpen {'wordt' if outside == 1 else 'worden'} overgeslagen."
    with st.container(horizontal=True, vertical_alignment="center"):
        st.info(text, icon=":material/filter_alt:")
        st.button("Filter uit", key="topic_off", on_click=lambda: st.session_state.__setitem__(TOPIC, ""))


def documents_word(n: int) -> str:
    return "document" if n == 1 else "documenten"


def _restore_from_link() -> None:
    """After a reload (or from a bookmark) ``?gesprek=<id>`` reopens that conversation once."""
    if st.session_state.get("chat_restored"):
        return
    st.session_state["chat_restored"] = True
    wanted = st.query_params.get(CONVERSATION_PARAM)
    if wanted and _UUID.fullmatch(wanted) and not _messages() and not open_conversation(wanted):
        st.query_params.pop(CONVERSATION_PARAM, None)


def render_start_up() -> None:
    """ "Bezig met opstarten" while the knowledge base loads in the background; the page is usable meanwhile
    (a question asked now waits for the start-up). Polls once a second, and only while starting."""
    warm = resources.warm_up()
    if warm.ready:
        if warm.error:
            st.error("SamenWeten kon niet opstarten: " + escape_markdown(warm.error))
        return

    @st.fragment(run_every=1.0)
    def status() -> None:
        # Only from its own timed runs: a rerun during the page's run would drop a question asked in it
        # (the chat input's value lives for one run), when the start-up finishes between the two looks.
        if not st.session_state.get(_PAGE_RUN) and resources.warm_up().ready:
            st.rerun()  # the whole page, without this notice
        st.info(
            f"{STARTING} Bij de eerste start duurt dat even; je kunt je vraag alvast stellen.",
            icon=":material/hourglass_top:",
        )

    st.session_state[_PAGE_RUN] = True
    try:
        status()
    finally:
        st.session_state[_PAGE_RUN] = False


def render() -> None:
    _restore_from_link()
    with st.sidebar:
        st.selectbox(
            "Onderwerp",
            ["", *TOPICS],
            key=TOPIC,
            format_func=lambda t: topic_label(t) if t else "Alle onderwerpen",
            help='Zoek alleen in documenten over dit onderwerp. "Nieuw gesprek" zet het filter weer uit.',
        )
        st.button("Nieuw gesprek", on_click=new_conversation, icon=":material/add_comment:")
        render_recent()
        scrollable_tables()

    st.title("Vraag het SamenWeten")
    st.caption(DISCLAIMER)
    render_start_up()
    topic = st.session_state.get(TOPIC) or None
    render_topic_filter(topic)

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
    if st.session_state.pop(SCROLL, False):
        browser.scroll_to_last_answer()


if __name__ == "__main__":
    render()
