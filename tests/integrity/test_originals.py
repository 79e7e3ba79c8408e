"""Kept originals live under a hash of the document id: long ids that share a prefix never share a folder."""

from __future__ import annotations

from integrity.support import TestKB, settings_for
from kb.access import Principal
from kb.documents import DocumentService
from kb.store import original_folder

STAFF = Principal("test", "staff")


def test_two_long_ids_of_one_partner_keep_their_own_originals(tmp_path, hashing_embedder):
    kb = TestKB(settings_for(tmp_path / "data"), hashing_embedder)
    service = DocumentService(kb, kb.store.engine)
    stem = "handleiding-voor-het-bestuur-van-een-energiecooperatie-" * 3  # > 120 characters
    first, second = tmp_path / f"{stem}deel-een.md", tmp_path / f"{stem}deel-twee.md"
    first.write_text("# Deel een\n\nDe ledenvergadering kiest het bestuur.\n", encoding="utf-8")
    second.write_text("# Deel twee\n\nHet bestuur legt verantwoording af.\n", encoding="utf-8")
    a = service.add(STAFF, first, first.name)
    b = service.add(STAFF, second, second.name)
    assert a.doc_id[:120] == b.doc_id[:120] and a.doc_id != b.doc_id
    assert original_folder(a.doc_id) != original_folder(b.doc_id)

    first.write_text("# Deel een\n\nDe ledenvergadering kiest en ontslaat het bestuur.\n", encoding="utf-8")
    assert service.replace(STAFF, a.doc_id, first, first.name).status == "replaced"
    kept_b = kb.store.original_path(kb.store.get_document(b.doc_id))
    assert kept_b is not None and "verantwoording" in kept_b.read_text(encoding="utf-8")
    kept_a = kb.store.original_path(kb.store.get_document(a.doc_id))
    assert kept_a is not None and "ontslaat" in kept_a.read_text(encoding="utf-8")
    assert kept_a.parent.parent.name == original_folder(a.doc_id)
    assert len(list(kept_a.parent.parent.iterdir())) == 1  # the old version's original is gone
