"""One error type for everything a person can be told about.

Every exception the product raises on purpose derives from :class:`KbError`. Its message (``reason``) is a
Dutch sentence for a person: what went wrong and what to do. The CLI catches ``KbError`` once (exit code
non-zero, the reason on stderr, no traceback); each page shows the reason and sends the details to the log.
Anything else that escapes is a bug: the CLI and the pages show a generic Dutch message and log the traceback.
"""

from __future__ import annotations

GENERIC_REASON = (
    "Er ging iets onverwachts mis. Probeer het opnieuw; blijft het misgaan, neem dan contact op met "
    "SamenWeten (de details staan in het logboek)."
)


class KbError(Exception):
    """A failure whose message (``str(exc)``) is a Dutch reason for a person. ``exit_code`` is what the CLI
    returns. (Some subclasses keep a shorter ``reason`` attribute of their own, e.g. without the file name.)"""

    exit_code: int = 1


def reason_for(exc: BaseException) -> str:
    """The Dutch text to show a person for ``exc``: its reason, or a generic message for a bug."""
    if isinstance(exc, KbError):
        return str(exc) or GENERIC_REASON
    return GENERIC_REASON
