"""``kb users add|list|remove|reset-password|unlock``: staff and partner accounts from the command line.

``add USERNAME --role staff|partner [--org ORG]`` creates one; ``list`` shows them (and who is locked out);
``remove USERNAME [--yes]`` deletes one; ``reset-password USERNAME`` sets a new password; ``unlock USERNAME``
lifts a lockout after too many failed logins.

The password comes from the environment variable ``KB_NEW_PASSWORD`` (for scripts) or is asked twice
without echo. Messages are Dutch; the database is the one of the settings (``KB_DATABASE_URL`` or
``DATA_DIR/samenweten.db``).

Wire it into ``kb/cli.py`` with :func:`add_users_parser` (see its docstring).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

from kb.config import Settings

PASSWORD_ENV = "KB_NEW_PASSWORD"


def add_users_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``users`` command group to the ``kb`` sub-parsers (``sub`` from ``add_subparsers``)."""
    users = sub.add_parser("users", help="accounts van medewerkers en partners")
    usub = users.add_subparsers(dest="users_command", required=True)
    p = usub.add_parser("add", parents=[common], help="een account aanmaken")
    p.add_argument("username", help="gebruikersnaam (3-64 tekens: letters, cijfers, . _ @ -)")
    p.add_argument("--role", required=True, choices=("staff", "partner"), help="staff (medewerker) of partner")
    p.add_argument("--org", help="organisatie van de partner (verplicht bij --role partner)")
    p.set_defaults(func=cmd_users_add)
    p = usub.add_parser("list", parents=[common], help="alle accounts, met rol, organisatie en blokkering")
    p.set_defaults(func=cmd_users_list)
    p = usub.add_parser("remove", parents=[common], help="een account verwijderen")
    p.add_argument("username")
    p.add_argument("--yes", action="store_true", help="niet om bevestiging vragen")
    p.set_defaults(func=cmd_users_remove)
    p = usub.add_parser(
        "reset-password",
        parents=[common],
        help=f"een nieuw wachtwoord instellen (uit {PASSWORD_ENV} of gevraagd); beëindigt de sessies",
    )
    p.add_argument("username")
    p.set_defaults(func=cmd_users_reset_password)
    p = usub.add_parser("unlock", parents=[common], help="een geblokkeerd account ontgrendelen")
    p.add_argument("username")
    p.set_defaults(func=cmd_users_unlock)


def read_password(
    env: Mapping[str, str] | None = None,
    ask: Callable[[str], str] = getpass.getpass,
    interactive: bool | None = None,
) -> str | None:
    """The new password: from ``KB_NEW_PASSWORD``, else asked twice. None when it cannot be read."""
    env = os.environ if env is None else env
    if env.get(PASSWORD_ENV):
        return env[PASSWORD_ENV]
    if interactive is None:
        interactive = sys.stdin is not None and sys.stdin.isatty()
    if not interactive:
        return None
    first = ask("Nieuw wachtwoord: ")
    second = ask("Herhaal het wachtwoord: ")
    if first != second:
        raise ValueError("De wachtwoorden zijn niet gelijk. Probeer het opnieuw.")
    return first


def cmd_users_add(args: argparse.Namespace) -> int:
    """Create the account; 0 on success, 1 on a refused account, 2 on missing input."""
    from kb.db.accounts import AccountError, create_user
    from kb.db.engine import DatabaseError, init_db, session_scope

    if args.role == "partner" and not (args.org or "").strip():
        print("kb users add: een partneraccount heeft --org ORGANISATIE nodig.", file=sys.stderr)
        return 2
    try:
        password = read_password()
    except ValueError as exc:
        print(f"kb users add: {exc}", file=sys.stderr)
        return 2
    except (EOFError, KeyboardInterrupt):
        print("\nkb users add: afgebroken.", file=sys.stderr)
        return 2
    if password is None:
        print(
            f"kb users add: geen wachtwoord. Zet de omgevingsvariabele {PASSWORD_ENV} "
            "of start het commando in een terminal om het wachtwoord in te typen.",
            file=sys.stderr,
        )
        return 2

    settings = Settings()
    try:
        engine = init_db(settings.resolved_database_url())
        with session_scope(engine) as session:
            user = create_user(
                session, args.username, password, args.role, args.org if args.role == "partner" else None
            )
            name, role, org = user.username, user.role, user.partner_org
    except AccountError as exc:
        print(f"kb users add: {exc}", file=sys.stderr)
        return 1
    except DatabaseError as exc:
        print(f"kb users add: {exc}", file=sys.stderr)
        return 1

    data = {"username": name, "role": role, "partner_org": org}
    if getattr(args, "json", False):
        import json

        print(json.dumps(data, ensure_ascii=False))
    else:
        where = f" voor {org}" if org else ""
        print(f"Account '{name}' aangemaakt ({'medewerker' if role == 'staff' else 'partner'}{where}).")
    return 0


def _engine() -> Any:
    from kb.db.engine import init_db

    return init_db(Settings().resolved_database_url())


def _print_json(data: Any) -> None:
    import json

    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def cmd_users_list(args: argparse.Namespace) -> int:
    """Every account: name, role, organisation, failed logins, locked until (local time)."""
    from kb.db.accounts import is_locked, list_users
    from kb.db.engine import DatabaseError, session_scope

    try:
        with session_scope(_engine()) as session:
            rows = [
                {
                    "username": u.username,
                    "role": u.role,
                    "partner_org": u.partner_org,
                    "failed_logins": u.failed_logins,
                    "locked_until": u.locked_until.isoformat() if is_locked(u) and u.locked_until else None,
                }
                for u in list_users(session)
            ]
    except DatabaseError as exc:
        print(f"kb users list: {exc}", file=sys.stderr)
        return 1
    if getattr(args, "json", False):
        _print_json(rows)
        return 0
    if not rows:
        print("Er zijn nog geen accounts. Maak er een met: kb users add NAAM --role staff")
        return 0
    for row in rows:
        role = "medewerker" if row["role"] == "staff" else f"partner ({row['partner_org']})"
        locked = f"  GEBLOKKEERD tot {_local(str(row['locked_until']))}" if row["locked_until"] else ""
        print(f"{row['username']:<24} {role}{locked}")
    print(f"{len(rows)} {'account' if len(rows) == 1 else 'accounts'}")
    return 0


def _local(iso: str) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(iso).astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%d-%m-%Y %H:%M")


def _account_command(name: str, action: Callable[[Any], str], args: argparse.Namespace) -> int:
    from kb.db.accounts import AccountError
    from kb.db.engine import DatabaseError, session_scope

    try:
        with session_scope(_engine()) as session:
            message = action(session)
    except (AccountError, DatabaseError) as exc:
        print(f"kb users {name}: {exc}", file=sys.stderr)
        return 1
    if getattr(args, "json", False):
        _print_json({"username": args.username.strip().lower(), "done": name})
    else:
        print(message)
    return 0


def cmd_users_remove(args: argparse.Namespace) -> int:
    from kb.db.accounts import remove_user

    if not args.yes:
        if not (sys.stdin is not None and sys.stdin.isatty()):
            print("kb users remove: bevestig met --yes (er is geen terminal om het te vragen).", file=sys.stderr)
            return 2
        if input(f"Account '{args.username}' verwijderen? Typ ja: ").strip().lower() != "ja":
            print("Niets verwijderd.")
            return 0

    def action(session: Any) -> str:
        remove_user(session, args.username)
        return f"Account '{args.username.strip().lower()}' verwijderd; de sessies zijn beëindigd."

    return _account_command("remove", action, args)


def cmd_users_reset_password(args: argparse.Namespace) -> int:
    from kb.db.accounts import reset_password

    try:
        password = read_password()
    except ValueError as exc:
        print(f"kb users reset-password: {exc}", file=sys.stderr)
        return 2
    except (EOFError, KeyboardInterrupt):
        print("\nkb users reset-password: afgebroken.", file=sys.stderr)
        return 2
    if password is None:
        print(
            f"kb users reset-password: geen wachtwoord. Zet de omgevingsvariabele {PASSWORD_ENV} "
            "of start het commando in een terminal om het wachtwoord in te typen.",
            file=sys.stderr,
        )
        return 2

    def action(session: Any) -> str:
        reset_password(session, args.username, password)
        return (
            f"Nieuw wachtwoord ingesteld voor '{args.username.strip().lower()}'; "
            "een eventuele blokkering is opgeheven en de sessies zijn beëindigd."
        )

    return _account_command("reset-password", action, args)


def cmd_users_unlock(args: argparse.Namespace) -> int:
    from kb.db.accounts import unlock_user

    def action(session: Any) -> str:
        unlock_user(session, args.username)
        return f"Account '{args.username.strip().lower()}' ontgrendeld; er kan weer worden ingelogd."

    return _account_command("unlock", action, args)
