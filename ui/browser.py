"""What the app keeps in the volunteer's or staff member's browser: cookies, read by the server.

Streamlit gives the server the cookies of the page request (``st.context.cookies``) but has no call to set
one, so :func:`set_cookie` runs one line of our own JavaScript (``st.html(..., unsafe_allow_javascript=True)``
with a fixed script; the value is JSON-encoded by us, never document text). The cookies hold only random
tokens the server checks (a login session's token, stored hashed with its expiry in the database; the ids of
recent conversations, random UUIDs); they are ``SameSite=Strict`` and limited to the app's path.
"""

from __future__ import annotations

import json
import re

import streamlit as st

_NAME = re.compile(r"^[a-z_]+$")
_VALUE = re.compile(r"^[A-Za-z0-9_.,:-]*$")


def cookie(name: str) -> str | None:
    """The cookie ``name`` as the browser sent it when this session's page was loaded."""
    try:
        value = st.context.cookies.get(name)
    except Exception:  # no browser (bare mode, some tests)
        return None
    return value if isinstance(value, str) and value else None


def set_cookie(name: str, value: str, max_age_seconds: int) -> None:
    """Ask the browser to keep ``name=value`` for ``max_age_seconds`` (0 deletes it)."""
    if not _NAME.fullmatch(name) or not _VALUE.fullmatch(value):
        raise ValueError("ongeldige cookie")
    secure = "; Secure" if _is_https() else ""
    script = (
        "<script>document.cookie = "
        + json.dumps(f"{name}={value}; Max-Age={int(max_age_seconds)}; Path=/; SameSite=Strict{secure}")
        + ";</script>"
    )
    st.html(script, unsafe_allow_javascript=True, width="content")


def delete_cookie(name: str) -> None:
    set_cookie(name, "", 0)


def _is_https() -> bool:
    try:
        return str(st.context.url or "").startswith("https://")
    except Exception:
        return False


def scroll_to_last_answer() -> None:
    """Start the view at the first line of the newest answer (on a phone the answer is longer than a screen).

    Tried a few times in the first 6 s while the page settles (the chat keeps itself scrolled to the bottom as
    content arrives, also after late reruns); stops as soon as the reader scrolls or touches the page.
    """
    st.html(
        "<script>(() => {"
        "const doc = window.parent.document; let stop = false;"
        "const halt = () => { stop = true; };"
        "for (const name of ['wheel', 'touchstart', 'keydown']) doc.addEventListener(name, halt, {once: true});"
        "const go = () => { if (stop) return;"
        "const all = doc.querySelectorAll('[data-testid=\"stChatMessage\"]');"
        "const last = all[all.length - 1];"
        "if (!last) return;"
        # below the app's fixed header bar, not under it
        "const bar = doc.querySelector('[data-testid=\"stHeader\"]');"
        "last.style.scrollMarginTop = ((bar ? bar.getBoundingClientRect().bottom : 0) + 8) + 'px';"
        "last.scrollIntoView({block: 'start', behavior: 'instant'}); };"
        "for (const t of [50, 250, 600, 1200, 2000, 3000, 4500, 6000]) setTimeout(go, t);"
        "})();</script>",
        unsafe_allow_javascript=True,
        width="content",
    )
