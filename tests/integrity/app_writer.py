"""Change documents the way the app's documents page does (DocumentService.add as a partner), in its own
process with the hashing test model:

    python tests/integrity/app_writer.py PARTNER_ORG FILE...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]
import kb_hashing  # noqa: E402,F401  (patches the embedding model)

from kb.access import Principal  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.documents import DocumentService  # noqa: E402
from kb.service import KnowledgeBase  # noqa: E402

if __name__ == "__main__":
    org, files = sys.argv[1], sys.argv[2:]
    kb = KnowledgeBase(Settings())
    service = DocumentService(kb, kb.store.engine)
    principal = Principal("app-partner", "partner", org)
    for name in files:
        result = service.add(principal, Path(name), Path(name).name)
        print(json.dumps(result.to_dict()), flush=True)
        if not result.ok:
            sys.exit(1)
