"""The partner directory page (Partnergids): which organisations help resident collectives, and how to reach
them.

Everyone sees the directory and each entry's public contact routes (answers and source cards link here with
``?org=<key>``). A partner also sees their own entry with their documents and the knowledge gaps on their
topics (grouped questions only: never who asked or when). Staff add, change and remove entries; every change
is audited (``kb.partners.directory.DirectoryService``, which checks the role again).
"""

from __future__ import annotations

import logging

import streamlit as st

from kb.access import PermissionDeniedError, Principal
from kb.services.partners import (
    SUGGESTED_KINDS,
    SUGGESTED_TOPICS,
    DirectoryError,
    EntryData,
    EntryView,
    organisation_key,
)
from kb.services.partners import PartnersService as DirectoryService
from ui import resources
from ui.components import contact_markdown, escape_markdown, local_time, render_question_groups, safe_url
from ui.login import current_principal

log = logging.getLogger(__name__)

NOTICE = "partners_notice"
ADD_ROUND = "partners_add_round"


def service() -> DirectoryService:
    return DirectoryService(resources.knowledge_base(), resources.db_engine())


def _labels(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(values)


# ------------------------------------------------------------------------------------ public view
def render_entry(view: EntryView, svc: DirectoryService, with_documents: bool = True) -> None:
    """One organisation: description, topics, contact routes, knowledge partner and its documents."""
    with st.container(border=True):
        st.markdown(f"**{escape_markdown(view.name)}**")
        if view.description:
            st.markdown(escape_markdown(view.description))
        facts = []
        if view.topics:
            facts.append("Onderwerpen: " + _labels(view.topics))
        if view.kinds:
            facts.append("Helpt: " + _labels(view.kinds))
        facts.append(
            "Kennispartner (documenten in de kennisbank)"
            if view.is_knowledge_partner
            else "Netwerkpartner (nog geen documenten in de kennisbank)"
        )
        st.caption(" · ".join(escape_markdown(f) for f in facts))
        if view.contact:
            st.markdown(contact_markdown(view.contact))
            url = safe_url(view.contact.get("website"))
            if url:
                st.link_button("Website openen", url, icon=":material/open_in_new:")
        else:
            st.markdown("Contact: " + escape_markdown(resources.knowledge_base().settings.support_contact))
        if with_documents and view.is_knowledge_partner:
            with st.expander(f"Documenten in de kennisbank ({view.documents})"):
                for record in svc.documents_of(view.name):
                    st.markdown("• " + escape_markdown(f"{record.title} ({record.topic})"))


def _directory_section(svc: DirectoryService, views: list[EntryView]) -> None:
    if not views:
        st.info("De partnergids is nog leeg.")
        return
    keys = [v.org_key for v in views]
    by_key = {v.org_key: v for v in views}
    requested = st.query_params.get("org")
    if requested and requested not in keys:  # a name, or a link from before the keys became slugs
        requested = organisation_key(requested)
    index = keys.index(requested) if requested in keys else None
    if requested and requested not in keys:
        st.warning("Deze organisatie staat (nog) niet in de partnergids.")
    choice = st.selectbox(
        "Organisatie",
        keys,
        index=index,
        key=f"partners_choice_{requested or ''}",
        format_func=lambda k: by_key[k].name,
        placeholder="Kies een organisatie",
    )
    if choice is not None:
        if choice != requested:
            st.query_params["org"] = choice
        render_entry(by_key[choice], svc)
    with st.expander(f"Alle organisaties ({len(views)})", expanded=choice is None):
        st.dataframe(
            [
                {
                    "Organisatie": v.name,
                    "Onderwerpen": _labels([*v.topics, *v.kinds]),
                    "Kennispartner": "ja" if v.is_knowledge_partner else "nee",
                    "Website": v.contact.get("website", ""),
                    "E-mail": v.contact.get("email", ""),
                    "Telefoon": v.contact.get("phone", ""),
                }
                for v in views
            ],
            hide_index=True,
            width="stretch",
        )


# ------------------------------------------------------------------------------------ partner's own entry
def _own_section(principal: Principal, svc: DirectoryService) -> None:
    org = principal.partner_org or ""
    st.subheader("Jouw vermelding")
    view = svc.own_entry(principal)
    if view is None:
        st.info(
            f"{escape_markdown(org)} staat nog niet in de partnergids. Vraag een medewerker van SamenWeten "
            "om je organisatie toe te voegen, met onderwerpen en contactgegevens."
        )
        documents = svc.documents_of(org)
        st.caption(f"{len(documents)} documenten van je organisatie in de kennisbank.")
        return
    render_entry(view, svc)
    st.markdown("**Kennisvragen op jouw onderwerpen**")
    st.caption(
        "Vragen van vrijwilligers die de kennisbank niet kon beantwoorden, over de onderwerpen waarover je "
        "organisatie documenten heeft, gegroepeerd op betekenis. Je ziet niet wie ze stelde of wanneer."
    )
    if not st.toggle("Toon de kennisvragen", key="partners_show_gaps"):
        return
    try:
        mine = svc.gaps_for(principal)
    except Exception as exc:
        log.exception("the knowledge gaps could not be loaded")
        st.error("De kennisvragen konden niet worden geladen: " + escape_markdown(str(exc)))
        return
    render_question_groups(mine)


# ------------------------------------------------------------------------------------ staff editing
def _entry_fields(prefix: str, current: EntryData | None = None) -> EntryData:
    c = current or EntryData(name="")
    name = st.text_input("Naam", value=c.name, key=f"{prefix}_name", max_chars=120)
    description = st.text_area(
        "Beschrijving (gewone taal)", value=c.description, key=f"{prefix}_description", max_chars=800
    )
    topics = st.text_input(
        "Onderwerpen (met komma's)",
        value=_labels(c.topics),
        key=f"{prefix}_topics",
        help="Bijvoorbeeld: " + ", ".join(SUGGESTED_TOPICS),
    )
    kinds = st.text_input(
        "Soorten collectieven (met komma's)",
        value=_labels(c.kinds),
        key=f"{prefix}_kinds",
        help="Bijvoorbeeld: " + ", ".join(SUGGESTED_KINDS),
    )
    website = st.text_input("Website", value=c.website or "", key=f"{prefix}_website", placeholder="https://…")
    email = st.text_input("E-mail", value=c.email or "", key=f"{prefix}_email")
    phone = st.text_input("Telefoon", value=c.phone or "", key=f"{prefix}_phone")
    hours = st.text_input(
        "Bereikbaar", value=c.opening_hours or "", key=f"{prefix}_hours", placeholder="bijv. werkdagen 09.00–17.00"
    )
    return EntryData(
        name=name,
        description=description,
        topics=topics.split(","),
        kinds=kinds.split(","),
        website=website,
        email=email,
        phone=phone,
        opening_hours=hours,
    )


def _edit_section(principal: Principal, svc: DirectoryService, views: list[EntryView]) -> None:
    st.subheader("Vermelding aanpassen")
    if not views:
        st.caption("Voeg eerst een organisatie toe.")
        return
    by_key = {v.org_key: v for v in views}
    choice = st.selectbox(
        "Organisatie om aan te passen",
        list(by_key),
        index=None,
        key="partners_edit_choice",
        format_func=lambda k: by_key[k].name,
        placeholder="Kies een organisatie",
    )
    if choice is None:
        return
    view = by_key[choice]
    with st.form(f"edit_{choice}"):
        data = _entry_fields(f"edit_{choice}", view.as_data())
        saved = st.form_submit_button("Opslaan", type="primary", icon=":material/save:")
    if saved:
        try:
            changed = svc.update(principal, view.name, data)
        except (DirectoryError, PermissionDeniedError) as exc:
            st.error(escape_markdown(str(exc)))
        else:
            st.session_state[NOTICE] = (
                f"{view.name}: {', '.join(changed)} opgeslagen." if changed else f"{view.name}: niets gewijzigd."
            )
            st.rerun()
    confirmed = st.checkbox(f"Ja, haal {view.name} uit de partnergids", key=f"partners_confirm_{choice}")
    if st.button("Verwijderen", key=f"partners_remove_{choice}", disabled=not confirmed, icon=":material/delete:"):
        try:
            name = svc.remove(principal, view.name)
        except (DirectoryError, PermissionDeniedError) as exc:
            st.error(escape_markdown(str(exc)))
        else:
            st.session_state[NOTICE] = f"{name} is uit de partnergids gehaald."
            st.session_state.pop("partners_edit_choice", None)
            st.rerun()


def _add_section(principal: Principal, svc: DirectoryService) -> None:
    st.subheader("Organisatie toevoegen")
    round_ = st.session_state.setdefault(ADD_ROUND, 0)
    with st.form(f"partners_add_{round_}"):
        data = _entry_fields(f"add_{round_}")
        submitted = st.form_submit_button("Toevoegen", type="primary", icon=":material/add:")
    if submitted:
        try:
            view = svc.add(principal, data)
        except (DirectoryError, PermissionDeniedError) as exc:
            st.error(escape_markdown(str(exc)))
        else:
            st.session_state[NOTICE] = f"{view.name} is toegevoegd aan de partnergids."
            st.session_state[ADD_ROUND] = round_ + 1
            st.rerun()


def _history_section(svc: DirectoryService) -> None:
    with st.expander("Recente wijzigingen in de partnergids"):
        events = svc.recent_changes()
        if not events:
            st.write("Nog geen wijzigingen.")
            return
        st.dataframe(
            [
                {
                    "Wanneer": local_time(e.at),
                    "Wie": e.username or "",
                    "Organisatie": e.partner_org or "",
                    "Wat": e.detail or "",
                }
                for e in events
            ],
            hide_index=True,
            width="stretch",
        )


def render() -> None:
    principal = current_principal()
    st.title("Partnergids")
    st.caption("Organisaties die bewonerscollectieven helpen, en hoe je ze bereikt.")
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.success(escape_markdown(notice))
    try:
        svc = service()
        views = svc.entries()
    except Exception as exc:
        log.exception("the partner directory could not be loaded")
        st.error("De partnergids kon niet worden geladen: " + escape_markdown(str(exc)))
        return
    if principal.role == "partner":
        _own_section(principal, svc)
        st.subheader("Alle organisaties")
    _directory_section(svc, views)
    if principal.role == "staff":
        _edit_section(principal, svc, views)
        _add_section(principal, svc)
        _history_section(svc)


if __name__ == "__main__":
    render()
