"""Evaluation harness for the benchmark in ``shared/bench``: questions, citation matching, text
normalisation, retrieval and answer scores, runners and Markdown reports. Everything works on plain data
and callables; no model or store is needed."""

from kb.evaluation.citations import (
    CitationError,
    ExpectedCitation,
    chunk_matches_any,
    citation_matches,
    citation_problem,
    parse_citation,
)
from kb.evaluation.metrics import (
    AnswerReport,
    AnswerResult,
    AnswerRun,
    AnswerScores,
    RetrievalReport,
    RetrievalResult,
    RetrievalRun,
    RetrievalScores,
    RetrievedItem,
    Timing,
    first_match_rank,
    score_answers,
    score_retrieval,
)
from kb.evaluation.normalize import contains_fact, missing_facts, normalize_text
from kb.evaluation.questions import EvalQuestion, QuestionFileError, load_questions
from kb.evaluation.report import format_answer_table, format_retrieval_table, summary_line
from kb.evaluation.runner import run_answers, run_retrieval, split_halves

__all__ = [
    "AnswerReport",
    "AnswerResult",
    "AnswerRun",
    "AnswerScores",
    "CitationError",
    "EvalQuestion",
    "ExpectedCitation",
    "QuestionFileError",
    "RetrievalReport",
    "RetrievalResult",
    "RetrievalRun",
    "RetrievalScores",
    "RetrievedItem",
    "Timing",
    "chunk_matches_any",
    "citation_matches",
    "citation_problem",
    "contains_fact",
    "first_match_rank",
    "format_answer_table",
    "format_retrieval_table",
    "load_questions",
    "missing_facts",
    "normalize_text",
    "parse_citation",
    "run_answers",
    "run_retrieval",
    "score_answers",
    "score_retrieval",
    "split_halves",
    "summary_line",
]
