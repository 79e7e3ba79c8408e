"""The example-question pool: question texts from JSON Lines or plain lines, embedded once per model."""

import json

import numpy as np

from kb.retrieval.question_pool import pool_vectors, read_questions


def test_reads_questions_from_json_lines_and_plain_lines(tmp_path):
    jsonl = tmp_path / "pool.jsonl"
    jsonl.write_text(
        "\n".join(
            [
                json.dumps({"id": "a", "question": "Wie beslist?", "gold_citations": ["x"]}),
                json.dumps({"id": "b", "answer": "geen vraag"}),
                "{kapot",
                json.dumps({"question": "Wie beslist?"}),
                "",
            ]
        ),
        encoding="utf-8",
    )
    assert read_questions(jsonl) == ["Wie beslist?"]  # only the question text; duplicates once
    plain = tmp_path / "pool.txt"
    plain.write_text("Eerste vraag?\n\n  Tweede vraag?  \n", encoding="utf-8")
    assert read_questions(plain) == ["Eerste vraag?", "Tweede vraag?"]
    assert read_questions(tmp_path / "bestaat-niet.txt") == []


def test_pool_vectors_are_embedded_once_and_then_read_from_disk(tmp_path, hashing_embedder):
    calls: list[list[str]] = []

    class Counting:
        dimension = hashing_embedder.dimension
        cache = None

        def encode_queries(self, texts):
            calls.append(list(texts))
            return hashing_embedder.encode_queries(texts)

    texts = ["Wie beslist over het geld?", "Heeft een stichting leden?"]
    first = pool_vectors(texts, Counting(), tmp_path)
    second = pool_vectors(texts, Counting(), tmp_path)
    assert calls == [texts]
    assert first.shape == (2, hashing_embedder.dimension)
    np.testing.assert_allclose(first, second)
    assert pool_vectors([], Counting(), tmp_path).shape == (0, hashing_embedder.dimension)
