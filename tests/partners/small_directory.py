"""A small directory of made-up organisations for the partner tests."""

from __future__ import annotations

from kb.db.directory import EntryData

SMALL_VILLAGES = "Netwerk Kleine Dorpen"
CARE = "Steunpunt Zorginitiatieven"
ENERGY = "Bureau Buurtenergie"

SMALL_DIRECTORY = [
    EntryData(
        name=SMALL_VILLAGES,
        description="Helpt bewoners van kleine dorpen en buurtschappen met de leefbaarheid van hun dorp, "
        "zoals het beheer en de exploitatie van een dorpshuis of multifunctioneel centrum.",
        topics=["kleine kernen", "leefbaarheid"],
        kinds=["dorpshuis", "dorpsraad"],
        website="https://kleinedorpen.example.org",
    ),
    EntryData(
        name=CARE,
        description="Ondersteunt burgerinitiatieven in zorg en welzijn, zoals zorgcoöperaties die hulp en "
        "zorg voor ouderen in hun eigen omgeving regelen.",
        topics=["zorg", "welzijn"],
        kinds=["zorgcoöperatie"],
        email="hulp@zorginitiatieven.example.org",
        phone="0800-1234",
        opening_hours="werkdagen 09.00–17.00",
    ),
    EntryData(
        name=ENERGY,
        description="Adviseert energiecoöperaties over zonnepanelen op daken, windmolens en het besparen van energie.",
        topics=["energie"],
        kinds=["energiecoöperatie"],
        website="https://buurtenergie.example.org",
    ),
]
