"""All configuration in one place: environment variables with the ``KB_`` prefix, or a ``.env`` file.

Every setting is documented in the README (section "Configuratie"). Read settings with
:func:`get_settings`; tests and the CLI may build their own :class:`Settings` instance.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

Topic = Literal["rechtsvorm", "belasting", "financiering", "overig"]
TOPICS: tuple[str, ...] = ("rechtsvorm", "belasting", "financiering", "overig")


class Settings(BaseSettings):
    """SamenWeten settings. Environment: ``KB_<NAME>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="KB_", env_file=".env", extra="ignore")

    # --- storage ---------------------------------------------------------------------------
    data_dir: Path = Field(PROJECT_ROOT / "data", description="Root folder for all local data.")
    store_dir: Path | None = Field(
        None, description="Chroma persistent folder and kept originals; default DATA_DIR/store."
    )
    chroma_host: str | None = Field(
        None, description="Host of a Chroma server (`chroma run`); when set, HttpClient is used."
    )
    chroma_port: int = Field(8000, description="Port of the Chroma server.")
    collection_prefix: str = Field("samenweten", description="Prefix of the Chroma collection names.")

    # --- models ----------------------------------------------------------------------------
    models_dir: Path | None = Field(None, description="Folder with installed models; default DATA_DIR/models.")
    embed_model: str = Field(
        "embeddinggemma-300m",
        description="Embedding model: a name from `kb models list`, a local folder, or a hub id.",
    )
    embed_device: str = Field("cpu", description="Torch device for the embedding model.")
    embed_dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto",
        description="Weights dtype on the CPU; auto = bfloat16 only where a probe measured it faster on this CPU (decided once, `kb models list` shows it).",
    )
    embed_batch_size: int = Field(16, ge=1, description="Batch size when embedding chunks.")
    embed_threads: int = Field(0, ge=0, description="Torch threads for embedding; 0 = the cores this process may use.")
    embed_lock: bool = Field(
        True,
        description="Processes on one machine take turns per embedding step (a file lock) instead of sharing the cores.",
    )
    vector_cache: bool = Field(
        True,
        description="Keep every document vector by (model weights sha256, exact text), so no text is embedded twice.",
    )
    vector_cache_dir: Path | None = Field(
        None, description="Folder of the vector cache; default DATA_DIR/vector-cache."
    )

    # --- ingest ----------------------------------------------------------------------------
    chunk_size: int = Field(1200, ge=200, description="Target chunk size in characters.")
    chunk_overlap: int = Field(150, ge=0, description="Overlap between split parts of a long section.")
    passage_vectors: bool = Field(
        False,
        description="Also embed each paragraph of a chunk at ingest (about 3x the vectors); off: the "
        "extractive answerer embeds the paragraphs of the sources it quotes when it first needs them (cached).",
    )
    max_file_mb: float = Field(25.0, gt=0, description="Largest file accepted for ingest, in MB.")
    max_unpacked_mb: float = Field(200.0, gt=0, description="Largest unpacked DOCX size, in MB.")
    default_partner: str = Field("SamenWeten redactie", description="Partner when none is given.")
    starter_kb_dir: Path = Field(
        PROJECT_ROOT / "knowledge_base", description="Starter knowledge base, ingested on first run."
    )

    # --- retrieval -------------------------------------------------------------------------
    top_k: int = Field(5, ge=1, le=100, description="Number of sources returned by a search.")
    retrieval_mode: Literal["hybrid", "dense", "lexical"] = Field(
        "dense",
        description="Dense (embeddings), lexical (BM25) or both fused; dense measured best (README). "
        "Article references in a question are matched exactly in every mode.",
    )
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in the fusion.")
    lexical_weight: float = Field(0.25, ge=0, description="Weight of the BM25 ranking in the fusion.")
    rrf_k: int = Field(60, ge=1, description="Rank constant of reciprocal-rank fusion.")
    candidate_pool: int = Field(50, ge=5, description="Candidates taken from each retriever before fusion.")
    max_per_section: int = Field(1, ge=1, description="At most this many chunks of one section in the results.")
    lexical_blend: float = Field(
        0.05,
        ge=0,
        description="Dense mode: weight of BM25 (relative to the best match) added to the similarity; chosen by CV (README).",
    )
    document_blend: float = Field(
        0.0,
        ge=0,
        description="Dense mode: weight of the document's two best scores added to each of its chunks; chosen by CV (README).",
    )
    guide_bridge: float = Field(
        0.6,
        ge=0,
        le=1,
        description="How far an article cited by a matching guide section is lifted towards that section's score (0: off).",
    )
    hubness_weight: float = Field(
        0.75,
        ge=0,
        description="Dense mode: a chunk's score loses this times its mean similarity to its nearest example questions (hubness correction, CSLS; 0: off; chosen by CV, README).",
    )
    hubness_k: int = Field(
        10,
        ge=1,
        description="The hubness correction averages a chunk's similarity to this many nearest pool questions.",
    )
    hubness_pool: Path | None = Field(
        PROJECT_ROOT / "eval" / "starter.jsonl",
        description="Example questions for the hubness correction (JSON Lines with `question`, or one per line; texts only, no answers).",
    )
    glossary_expansion: bool = Field(
        True, description="Expand questions with glossary synonyms for word matching (lexical and hybrid modes)."
    )
    glossary_in_results: Literal["always", "definitions", "never"] = Field(
        "definitions", description="When glossary entries may be search results: only for 'wat is/betekent …?'."
    )

    # --- answering -------------------------------------------------------------------------
    answerer: Literal["extractive", "openai", "ollama"] = Field(
        "extractive", description="Who writes answers: extractive (no LLM) or an LLM provider."
    )
    llm_base_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server (vLLM, LM Studio, llama.cpp, hosted)."
    )
    llm_model: str = Field("default", description="Model name sent to the LLM provider.")
    llm_api_key: str = Field("not-needed", description="API key for the OpenAI-compatible endpoint.")
    llm_temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature of the LLM.")
    llm_max_tokens: int = Field(600, ge=16, description="Longest LLM answer, in tokens.")
    llm_timeout: float = Field(120.0, gt=0, description="Seconds before an LLM call is given up.")
    ollama_base_url: str = Field("http://127.0.0.1:11434", description="Ollama server URL.")
    answer_sources: int = Field(5, ge=1, le=20, description="Sources given to the answerer.")
    answer_max_quotes: int = Field(6, ge=1, le=10, description="Passages quoted by the extractive answerer.")
    answer_cover_sources: int = Field(
        4, ge=1, le=10, description="The extractive answer quotes the best passage of each of this many top sources."
    )
    answer_full_source_chars: int = Field(
        1200,
        ge=0,
        description="The extractive answer quotes the top source whole when it is at most this long (0: never).",
    )
    answer_unit_budget_chars: int = Field(
        800,
        ge=0,
        description="Most characters of source paragraphs one extractive answer embeds that are not yet in the "
        "vector cache (0: no limit; README, speed).",
    )
    refusal_threshold: float = Field(
        0.0, description="Evidence below this confidence is refused; calibrated on the dev set (README)."
    )
    answerability_rules: bool = Field(
        True,
        description="Decide answer / answer marked uncertain / refusal with the evidence model "
        "(kb/answering/refusal_model.json, fitted by cross-validation; README).",
    )
    suggestion_floor: float = Field(
        0.35, description="A refusal offers a source as 'Misschien nuttig' only when its similarity is at least this."
    )
    support_contact: str = Field(
        "Neem contact op met de helpdesk van SamenWeten voor persoonlijk advies.",
        description="Pointer to human support, shown with a refusal.",
    )
    prompts_dir: Path = Field(PROJECT_ROOT / "prompts", description="Folder with prompt and answer templates.")

    # --- partner directory -----------------------------------------------------------------
    starter_directory: Path = Field(
        PROJECT_ROOT / "knowledge_base" / "partners.yaml",
        description="Starter partner directory (YAML), loaded by `kb setup` when the directory is empty.",
    )
    partner_match_floor: float = Field(
        0.38,
        description="A refused or uncertain answer names an organisation only at this similarity or more "
        "(set for embeddinggemma-300m; README).",
    )
    partner_match_margin: float = Field(
        0.04, ge=0, description="A further organisation is named only within this distance of the best one's score."
    )
    partner_match_max: int = Field(2, ge=0, le=5, description="Organisations named on a refused or uncertain answer.")
    partner_topic_weight: float = Field(
        0.0, ge=0, description="Extra score for an organisation per share of retrieved sources on one of its topics."
    )

    # --- app / database --------------------------------------------------------------------
    database_url: str | None = Field(None, description="SQLAlchemy URL; default a SQLite file DATA_DIR/samenweten.db.")
    serve_url: str | None = Field(
        None,
        description="Address of a running `kb serve`; `kb search`/`kb ask` then answer through it (no model load).",
    )
    retention_days: int = Field(
        365,
        ge=1,
        description="Conversations (questions, answers, feedback, reviews) older than this many days "
        "are removed by `kb purge`.",
    )

    def resolved_store_dir(self) -> Path:
        return (self.store_dir or self.data_dir / "store").expanduser().resolve()

    def resolved_models_dir(self) -> Path:
        return (self.models_dir or self.data_dir / "models").expanduser().resolve()

    def resolved_vector_cache_dir(self) -> Path:
        return (self.vector_cache_dir or self.data_dir / "vector-cache").expanduser().resolve()

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'samenweten.db').resolve()}"

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def max_unpacked_bytes(self) -> int:
        return int(self.max_unpacked_mb * 1024 * 1024)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests construct their own ``Settings``)."""
    return Settings()
