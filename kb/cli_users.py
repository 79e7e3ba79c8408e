"""``kb users add USERNAME --role staff|partner [--org ORG]``: create a staff or partner account.

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
from collections.abc import Callable
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


def read_password(
    env: dict[str, str] | None = None,
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
    first = ask("Wachtwoord voor het nieuwe account: ")
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
            user = create_user(session, args.username, password, args.role, args.org if args.role == "partner" else None)
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
