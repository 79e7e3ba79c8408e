"""Build the shipped starter vectors: ``knowledge_base/.vectors/<model>.npz``.

Reads and chunks every starter document exactly as ``kb setup`` does, embeds each text (chunks and, with
``--passages``, their paragraphs) in float32 with the installed model, and writes keys (sha256 of the model
identity and the exact embedded text), float16 vectors and the model identity (weights sha256) into the seed.
``kb setup`` uses the seed only when the installed model has that identity; any text not in it is embedded.

    flock /tmp/samenweten-cpu.lock .venv/bin/python scripts/build_starter_vectors.py [--passages]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from ingest.pipeline import DocumentOverrides, FileResult, collect_files  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.service import KnowledgeBase  # noqa: E402
from kb.vector_cache import write_seed  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--passages", action="store_true", help="also the passage texts (KB_PASSAGE_VECTORS=true)")
    ap.add_argument("--from-cache", type=Path, help="take the vectors from this vector-cache folder instead")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="starter-vectors-") as tmp:
        settings = Settings().model_copy(
            update={
                "data_dir": Path(tmp),
                "embed_dtype": "float32",
                "vector_cache": False,
                "passage_vectors": True,
            }
        )
        kb = KnowledgeBase(settings)
        embedder = kb.embedder()
        assert embedder.cache is None
        texts: list[str] = []
        titles: list[str] = []
        for path in collect_files([settings.starter_kb_dir]):
            prep = kb.pipeline._prepare(path, DocumentOverrides())
            assert not isinstance(prep, FileResult), prep
            n = len(prep.chunks) if not args.passages else len(prep.texts)
            texts += prep.texts[:n]
            titles += prep.titles[:n]
        full = embedder._with_titles(texts, titles)
        t0 = time.perf_counter()
        if args.from_cache:
            # vectors a `kb setup` of the installed model already computed (its vector cache)
            import numpy as np

            from kb.embeddings import model_identity as _mi
            from kb.models.installed import resolve_model_path as _rp
            from kb.vector_cache import VectorCache, cache_file

            ident = _mi(embedder.model, Path(_rp(settings.embed_model, settings.resolved_models_dir())), "")
            found = VectorCache(cache_file(args.from_cache, ident), ident).get_many(full)
            keep = [i for i, v in enumerate(found) if v is not None]
            texts, titles, full = [texts[i] for i in keep], [titles[i] for i in keep], [full[i] for i in keep]
            vectors = np.vstack([found[i] for i in keep])
        else:
            vectors = embedder.encode_documents(texts, titles=titles)
        seconds = time.perf_counter() - t0
        from kb.embeddings import model_identity
        from kb.models.installed import resolve_model_path

        folder = Path(resolve_model_path(settings.embed_model, settings.resolved_models_dir()))
        identity = model_identity(embedder.model, folder, settings.embed_model)
        target = settings.starter_kb_dir / ".vectors" / f"{folder.name}.npz"
        write_seed(target, identity, full, vectors)
    print(
        f"{len(texts)} vectoren in {seconds:.0f} s (float32) -> {target} ({target.stat().st_size / 1e6:.2f} MB); "
        f"identiteit {identity}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
