"""The services between pages (and the CLI) and storage. Each owns its transactions; pages call only these
and display helpers, never a database session or the store directly.

* :class:`ChatService` — answering, storing an exchange, feedback, a source's text;
* :class:`ReviewService` — the review of questions and answers, the knowledge gaps (privacy-aware), purge;
* :class:`AuthService` — log in, log out, who the token belongs to;
* :class:`DocumentService` — the documents a principal may see and change (``kb.documents``).
"""

from kb.db.history import ExchangeFilter, ExchangeRow
from kb.documents import DocumentMetadata, DocumentNotFoundError, DocumentService
from kb.services.auth import AuthService
from kb.services.chat import ChatService
from kb.services.review import ReviewService
from kb.source_record import SourceRecord

__all__ = [
    "AuthService",
    "ChatService",
    "DocumentMetadata",
    "DocumentNotFoundError",
    "DocumentService",
    "ExchangeFilter",
    "ExchangeRow",
    "ReviewService",
    "SourceRecord",
]
