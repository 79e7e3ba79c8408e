"""``kb partners list|show|add|remove``: the partner directory on the command line (human output or ``--json``).

Changes are made as staff and audited as ``cli:<os user>``. The database is the one of the settings
(``KB_DATABASE_URL`` or ``DATA_DIR/samenweten.db``); ``show`` lists the organisation's documents in the store
(``--store`` or ``KB_STORE_DIR``). :func:`setup_directory` is the first-run step of ``kb setup``.

Wire it into ``kb/cli.py`` with :func:`add_partners_parser`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from kb.config import Settings

CONTACT_NL = {"website": "website", "email": "e-mail", "phone": "telefoon", "opening_hours": "bereikbaar"}


def add_partners_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``partners`` command group to the ``kb`` sub-parsers."""
    partners = sub.add_parser("partners", help="de partnergids: organisaties die collectieven helpen")
    psub = partners.add_subparsers(dest="partners_command", required=True)
    p = psub.add_parser("list", parents=[common], help="alle organisaties in de partnergids")
    p.set_defaults(func=cmd_partners_list)
    p = psub.add_parser("show", parents=[common], help="één organisatie, met haar documenten")
    p.add_argument("name", help="naam van de organisatie (hoofdletters en spaties maken niet uit)")
    p.set_defaults(func=cmd_partners_show)
    p = psub.add_parser("add", parents=[common], help="een organisatie toevoegen")
    p.add_argument("name", help="naam van de organisatie")
    p.add_argument("--description", default="", help="korte beschrijving in gewone taal")
    p.add_argument("--topic", action="append", default=[], help="onderwerp (mag vaker), bijv. zorg")
    p.add_argument("--kind", action="append", default=[], help="soort collectief (mag vaker), bijv. dorpshuis")
    p.add_argument("--website")
    p.add_argument("--email")
    p.add_argument("--phone")
    p.add_argument("--hours", dest="opening_hours", help="bereikbaar, bijv. 'werkdagen 09.00–17.00'")
    p.set_defaults(func=cmd_partners_add)
    p = psub.add_parser("remove", parents=[common], help="een organisatie uit de partnergids halen")
    p.add_argument("name")
    p.set_defaults(func=cmd_partners_remove)


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if getattr(args, "store", None):
        settings = settings.model_copy(update={"store_dir": args.store})
    return settings


def _service(args: argparse.Namespace, with_store: bool = True) -> Any:
    from kb.db.engine import init_db
    from kb.partners.directory import DirectoryService

    settings = _settings(args)
    store = None
    if with_store:
        from kb.store import KnowledgeStore

        store = KnowledgeStore(settings)
    return DirectoryService(init_db(settings.resolved_database_url()), store)


def _cli_principal() -> Any:
    from kb.access import Principal

    try:
        user = getpass.getuser()
    except Exception:  # no user name in this environment
        user = "onbekend"
    return Principal(username=f"cli:{user}"[:64], role="staff")


def _print(args: argparse.Namespace, data: Any, human: Any) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False))
    else:
        human()


def _fail(command: str, exc: Exception) -> int:
    print(f"kb partners {command}: {exc}", file=sys.stderr)
    return 1


def contact_lines(contact: dict[str, str]) -> list[str]:
    return [f"{CONTACT_NL[k]}: {v}" for k, v in contact.items() if k in CONTACT_NL]


def cmd_partners_list(args: argparse.Namespace) -> int:
    from kb.db.engine import DatabaseError

    try:
        views = _service(args).entries()
    except DatabaseError as exc:
        return _fail("list", exc)
    rows = [v.to_dict() for v in views]

    def human() -> None:
        if not rows:
            print("De partnergids is leeg. Voeg een organisatie toe met: kb partners add NAAM")
        for v in views:
            mark = "kennispartner" if v.is_knowledge_partner else "netwerk"
            topics = ", ".join([*v.topics, *v.kinds]) or "geen onderwerpen"
            print(f"{v.name}  ({mark}; {topics})")
            for line in contact_lines(v.contact):
                print(f"    {line}")
        print(f"{len(rows)} organisaties.")

    _print(args, rows, human)
    return 0


def cmd_partners_show(args: argparse.Namespace) -> int:
    from kb.db.engine import DatabaseError

    try:
        service = _service(args)
        view = service.entry(args.name)
        if view is None:
            print(
                f"kb partners show: '{args.name}' staat niet in de partnergids (zie kb partners list).", file=sys.stderr
            )
            return 1
        documents = service.documents_of(view.name)
    except DatabaseError as exc:
        return _fail("show", exc)
    data = view.to_dict()
    data["document_list"] = [{"doc_id": d.doc_id, "title": d.title, "topic": d.topic} for d in documents]

    def human() -> None:
        print(view.name)
        if view.description:
            print(f"  {view.description}")
        if view.topics:
            print(f"  onderwerpen: {', '.join(view.topics)}")
        if view.kinds:
            print(f"  helpt: {', '.join(view.kinds)}")
        for line in contact_lines(view.contact) or ["contact: " + _settings(args).support_contact]:
            print(f"  {line}")
        if documents:
            print(f"  kennispartner, {len(documents)} documenten:")
            for d in documents:
                print(f"    - {d.title} ({d.topic})")
        else:
            print("  nog geen documenten in de kennisbank")

    _print(args, data, human)
    return 0


def cmd_partners_add(args: argparse.Namespace) -> int:
    from kb.db.directory import DirectoryError, EntryData
    from kb.db.engine import DatabaseError

    data = EntryData(
        name=args.name,
        description=args.description,
        topics=args.topic,
        kinds=args.kind,
        website=args.website,
        email=args.email,
        phone=args.phone,
        opening_hours=args.opening_hours,
    )
    try:
        view = _service(args).add(_cli_principal(), data)
    except (DirectoryError, DatabaseError) as exc:
        return _fail("add", exc)
    _print(args, view.to_dict(), lambda: print(f"'{view.name}' toegevoegd aan de partnergids."))
    return 0


def cmd_partners_remove(args: argparse.Namespace) -> int:
    from kb.db.directory import DirectoryError
    from kb.db.engine import DatabaseError

    try:
        name = _service(args, with_store=False).remove(_cli_principal(), args.name)
    except (DirectoryError, DatabaseError) as exc:
        return _fail("remove", exc)
    _print(args, {"name": name, "removed": True}, lambda: print(f"'{name}' uit de partnergids gehaald."))
    return 0


def setup_directory(settings: Settings) -> int:
    """First run: load the starter directory when the directory is empty. 0 on success, 1 on an error."""
    from kb.db.directory import DirectoryError
    from kb.db.engine import DatabaseError, init_db
    from kb.partners.directory import DirectoryService
    from kb.partners.starter import read_starter

    try:
        service = DirectoryService(init_db(settings.resolved_database_url()))
        if service.raw_entries():
            print("De partnergids is al gevuld; startpartnergids niet opnieuw geladen.", file=sys.stderr)
            return 0
        added = service.load_starter(read_starter(settings.starter_directory), username="kb setup")
    except (DirectoryError, DatabaseError) as exc:
        print(f"kb setup: {exc}", file=sys.stderr)
        return 1
    print(f"Startpartnergids geladen: {added} organisaties.", file=sys.stderr)
    return 0
