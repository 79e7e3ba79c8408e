"""The help on an answer: refusals and answers marked uncertain get it, normal answers do not; a directory
that cannot be read costs the help, never the answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from small_directory import CARE, SMALL_DIRECTORY

from kb.answering.assistant import Assistant
from kb.answering.types import Answer, AnswerStream
from kb.config import Settings
from kb.db import dispose_engines, init_db, session_scope
from kb.db.directory import load_starter
from kb.partners.help import PartnerHelp, needs_help

QUESTION = "Hoe beginnen we een zorgcoöperatie voor zorg aan ouderen?"


@dataclass
class FakeAnswer:
    question: str
    standalone_query: str
    refused: bool
    uncertain: bool = False
    hits: list = field(default_factory=list)


def settings_for(tmp_path: Path, **extra) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path / "data", partner_match_floor=0.05, **extra)


def fill(settings: Settings) -> None:
    with session_scope(init_db(settings.resolved_database_url())) as session:
        load_starter(session, SMALL_DIRECTORY)


def test_refused_and_uncertain_get_help_a_normal_answer_none(tmp_path, hashing_embedder):
    settings = settings_for(tmp_path)
    fill(settings)
    helper = PartnerHelp(settings, lambda: hashing_embedder)
    refused = helper(FakeAnswer(QUESTION, QUESTION, refused=True))
    uncertain = helper(FakeAnswer(QUESTION, QUESTION, refused=False, uncertain=True))
    assert refused and refused[0]["organisation"] == CARE and refused == uncertain
    assert set(refused[0]) == {"organisation", "why", "contact"}
    assert helper(FakeAnswer(QUESTION, QUESTION, refused=False)) == []
    assert not needs_help(FakeAnswer(QUESTION, QUESTION, refused=False))
    assert (
        PartnerHelp(settings.model_copy(update={"partner_match_max": 0}), lambda: hashing_embedder)(
            FakeAnswer(QUESTION, QUESTION, refused=True)
        )
        == []
    )
    dispose_engines()


def test_an_unreadable_directory_costs_only_the_help(tmp_path, hashing_embedder):
    settings = settings_for(tmp_path, database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    helper = PartnerHelp(settings, lambda: hashing_embedder)
    assert helper(FakeAnswer(QUESTION, QUESTION, refused=True)) == []


def test_the_assistant_hook_fills_help_only_on_refused_or_uncertain_answers():
    calls = []

    def finder(answer):
        calls.append(answer.question)
        return [{"organisation": "X", "why": "Helpt bij zorg", "contact": {}}]

    assistant = Assistant.__new__(Assistant)
    assistant.help_finder = finder

    def stream(refused: bool, uncertain: bool | None = None) -> Answer:
        answer = Answer("v", "v", "tekst", refused, [], [], 0.5, "extractive")
        if uncertain is not None:
            answer.uncertain = uncertain  # type: ignore[attr-defined]  # added by the retrieval work
        return AnswerStream(iter(["tekst"]), lambda _: answer).then(assistant._add_help).complete()

    assert stream(refused=True).help[0]["organisation"] == "X"
    assert stream(refused=False, uncertain=True).to_dict()["help"][0]["why"] == "Helpt bij zorg"
    assert stream(refused=False).help == [] and stream(refused=False).to_dict()["help"] == []
    assert len(calls) == 2
