"""Matching organisations to a question with the embedding model.

The mechanics (floor, margin, limit, why, topic weight, cache per directory revision) run on the hashing test
model; ``model``-marked tests use the real default model on a small made-up directory.
"""

from __future__ import annotations

import pytest
from small_directory import CARE, ENERGY, SMALL_DIRECTORY, SMALL_VILLAGES

from kb.config import Settings
from kb.db.directory import DirectoryEntry, EntryData, org_key
from kb.embeddings import Embedder, get_embedder
from kb.models.installed import is_installed
from kb.partners.matching import OrganisationProfile, PartnerMatcher, directory_revision, why_text


def profiles(entries: list[EntryData] = SMALL_DIRECTORY) -> list[OrganisationProfile]:
    rows = [DirectoryEntry(org_key=org_key(e.name), **vars(e.cleaned())) for e in entries]
    return [OrganisationProfile.from_entry(r) for r in rows]


class CountingEmbedder(Embedder):
    def __init__(self, inner: Embedder) -> None:
        super().__init__(inner.model, inner.name)
        self.documents_embedded = 0

    def encode_documents(self, texts, progress=None, titles=None):  # type: ignore[override]
        self.documents_embedded += len(texts)
        return super().encode_documents(texts, progress, titles)


def test_profile_text_holds_name_description_topics_and_kinds():
    (care,) = [p for p in profiles() if p.name == CARE]
    assert care.profile.startswith(CARE + ". Ondersteunt burgerinitiatieven")
    assert "Onderwerpen: zorg, welzijn." in care.profile and "Helpt: zorgcoöperatie." in care.profile
    assert care.labels == ("zorg", "welzijn", "zorgcoöperatie")
    assert care.contact == {
        "email": "hulp@zorginitiatieven.example.org",
        "phone": "0800-1234",
        "opening_hours": "werkdagen 09.00–17.00",
    }


def test_best_match_with_why_and_contact(hashing_embedder):
    matcher = PartnerMatcher(lambda: hashing_embedder, floor=0.0, limit=2, margin=1.0)
    found = matcher.match("Wij willen zonnepanelen op de daken met onze energiecoöperatie", profiles())
    assert found[0].organisation == ENERGY and found[0].contact == {"website": "https://buurtenergie.example.org"}
    assert found[0].why.startswith("Helpt bij ") and "energie" in found[0].why
    assert found[0].to_dict() == {"organisation": ENERGY, "why": found[0].why, "contact": found[0].contact}
    assert len(found) == 2 and found[0].score >= found[1].score


def test_floor_margin_and_limit(hashing_embedder):
    question = "Wij willen zonnepanelen op de daken met onze energiecoöperatie"
    scores = PartnerMatcher(lambda: hashing_embedder, floor=0.0).scores(question, profiles())
    best, second = scores[0][1], scores[1][1]
    assert best > second
    above_all = PartnerMatcher(lambda: hashing_embedder, floor=best + 0.01)
    assert above_all.match(question, profiles()) == []
    tight = PartnerMatcher(lambda: hashing_embedder, floor=0.0, limit=3, margin=(best - second) / 2)
    assert [s.organisation for s in tight.match(question, profiles())] == [ENERGY]
    one = PartnerMatcher(lambda: hashing_embedder, floor=0.0, limit=1, margin=1.0)
    assert len(one.match(question, profiles())) == 1
    assert one.match("   ", profiles()) == [] and one.match(question, []) == []


def test_topics_of_the_retrieved_sources_can_add_weight(hashing_embedder):
    question = "Waar vinden we hulp?"
    plain = PartnerMatcher(lambda: hashing_embedder, floor=-1.0).scores(question, profiles())
    weighted = PartnerMatcher(lambda: hashing_embedder, floor=-1.0, topic_weight=0.5).scores(
        question, profiles(), source_topics=["zorg", "zorg", "belasting", "overig"]
    )
    plain_scores = {p.name: s for p, s in plain}
    weighted_scores = {p.name: s for p, s in weighted}
    assert weighted_scores[CARE] == pytest.approx(plain_scores[CARE] + 0.5 * 2 / 4)
    assert weighted_scores[ENERGY] == pytest.approx(plain_scores[ENERGY])


def test_vectors_are_cached_per_directory_revision(hashing_embedder):
    embedder = CountingEmbedder(hashing_embedder)
    matcher = PartnerMatcher(lambda: embedder, floor=0.0)
    first = profiles()
    matcher.match("Een dorpshuis", first)
    embedded = embedder.documents_embedded
    assert embedded == 3 + len({label for p in first for label in p.labels})
    matcher.match("Een andere vraag over zorg", profiles())  # same directory, re-read: no new embedding
    assert embedder.documents_embedded == embedded
    changed = SMALL_DIRECTORY[:2] + [EntryData(**{**vars(SMALL_DIRECTORY[2]), "description": "Nieuw."})]
    assert directory_revision(profiles(changed)) != directory_revision(first)
    matcher.match("Een dorpshuis", profiles(changed))
    assert embedder.documents_embedded > embedded


def test_why_text():
    assert why_text(["dorpshuis", "kleine kernen"]) == "Helpt bij dorpshuis en kleine kernen"
    assert why_text([]) == "Past bij het onderwerp van je vraag"


# ------------------------------------------------------------------------------------ real model
@pytest.fixture(scope="module")
def real_embedder() -> Embedder:
    settings = Settings(_env_file=None)
    if not is_installed(settings.embed_model, settings.resolved_models_dir()):
        pytest.skip(f"standaardmodel {settings.embed_model} is niet geïnstalleerd: draai `kb models install`")
    return get_embedder(settings)


@pytest.mark.model
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Ons dorpshuis zoekt een nieuwe beheerder en wil de zaal vaker verhuren. Wie kan ons helpen?", SMALL_VILLAGES),
        ("We willen met de buurt een zorgcoöperatie beginnen voor ouderen. Waar moeten we op letten?", CARE),
    ],
)
def test_the_real_model_finds_the_fitting_organisation(real_embedder, question, expected):
    settings = Settings(_env_file=None)
    matcher = PartnerMatcher(
        lambda: real_embedder,
        floor=settings.partner_match_floor,
        limit=settings.partner_match_max,
        margin=settings.partner_match_margin,
    )
    found = matcher.match(question, profiles())
    assert found and found[0].organisation == expected, matcher.scores(question, profiles())
    assert found[0].why.startswith("Helpt bij ")


@pytest.mark.model
def test_the_real_model_names_nobody_for_an_unrelated_question(real_embedder):
    settings = Settings(_env_file=None)
    matcher = PartnerMatcher(lambda: real_embedder, floor=settings.partner_match_floor)
    assert matcher.match("Hoe laat vertrekt de laatste trein naar Utrecht?", profiles()) == []
