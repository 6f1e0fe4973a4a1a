"""Theme scan through the HTTP API (and the CLI) over the real sample corpus.

Read-only: every test uses the session's ingested corpus, and the app's own data folder
(conversations and the like) is the test's fresh one.
"""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from conftest import MakeServices
from fastapi.testclient import TestClient
from papers import markdown_folder

from ingest.pipeline import ingest_paths
from service.api.app import create_app, serving_app
from service.cli.main import main
from service.container import Services
from service.settings import Settings
from service.themes.export import CSV_COLUMNS, MD_COLUMNS


@pytest.fixture
def client(settings: Settings, corpus_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(settings, services=corpus_services)) as test_client:
        yield test_client


def scan(client: TestClient, theme: str, **fields: Any) -> dict[str, Any]:
    response = client.post("/themes", json={"theme": theme, **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def places(body: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(group["document"], place) for group in body["documents"] for place in group["places"]]


def test_theme_found_across_several_documents_in_date_and_reading_order(
    client: TestClient,
) -> None:
    body = scan(client, "homelessness and rough sleeping")
    groups = body["documents"]
    assert len(groups) >= 3
    dates = [group["document"]["date"] for group in groups]
    assert dates == sorted(dates)
    for group in groups:
        assert group["count"] == len(group["places"]) > 0
        pages = [place["page"] for place in group["places"]]
        assert pages == sorted(pages)  # reading order: no kind was asked for
    total = sum(group["count"] for group in groups)
    assert total >= 30  # every place, not a top k
    for document, place in places(body):
        assert re.search(r"homeless|rough sleep|sleeping rough", place["quote"], re.I), place
        assert place["quote"].split(" … ")[0] in place["text"]
        assert place["url"] == f"/documents/{document['id']}/file#page={place['page']}"


def test_a_place_is_found_only_through_a_learned_acronym(client: TestClient) -> None:
    # The papers define "Oxfordshire Domestic Abuse Strategic Board (ODASB)" and elsewhere
    # write only "ODASB": those places are found through the learned acronym.
    body = scan(client, "domestic abuse")
    assert "ODASB" in body["terms"]
    only_acronym = [
        place for _, place in places(body)
        if "ODASB" in place["text"] and not re.search(r"domestic\s+abuse", place["text"], re.I)
    ]  # fmt: skip
    assert only_acronym


def test_kind_filter_and_kind_words_in_the_question(client: TestClient) -> None:
    everything = scan(client, "hate crime")
    assert {place["kind"] for _, place in places(everything)} != {"priority"}

    only = scan(client, "hate crime", kinds=["priority"])
    found = places(only)
    assert found
    assert {place["kind"] for _, place in found} == {"priority"}
    assert len(found) < len(places(everything))

    asked = scan(client, "Which priorities mention hate crime?")
    assert asked["kinds_asked"] == ["priority"]
    for group in asked["documents"]:
        kinds = [place["kind"] for place in group["places"]]
        first_other = next((i for i, k in enumerate(kinds) if k != "priority"), len(kinds))
        assert all(k != "priority" for k in kinds[first_other:])  # priorities come first
    assert any(place["kind"] == "priority" for _, place in places(asked))


def test_markdown_table_matches_the_json(client: TestClient) -> None:
    body = scan(client, "modern slavery")
    response = client.post("/themes", json={"theme": "modern slavery", "format": "md"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    table = [line for line in response.text.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    assert header == list(MD_COLUMNS)
    rows = [
        [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip("|"))] for line in table[2:]
    ]
    expected = [
        [f"[{doc['title']}](http://testserver{place['url']})", doc["date"] or "",
         str(place["page"]), place["paragraph"] or "",
         place["kind"], " ".join(place["quote"].split()).replace("|", "\\|")]
        for doc, place in places(body)
    ]  # fmt: skip
    assert rows == expected
    assert len(rows) >= 10


def test_csv_matches_the_json(client: TestClient) -> None:
    body = scan(client, "modern slavery")
    response = client.post("/themes", json={"theme": "modern slavery", "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0].keys()) == list(CSV_COLUMNS)
    expected = [
        (doc["id"], doc["date"] or "", str(place["page"]), place["kind"], place["quote"],
         place["text"], place["url"])
        for doc, place in places(body)
    ]  # fmt: skip
    got = [(r["document_id"], r["date"], r["page"], r["kind"], r["quote"], r["text"], r["url"])
           for r in rows]  # fmt: skip
    assert got == expected


def test_blank_theme_is_rejected(client: TestClient) -> None:
    assert client.post("/themes", json={"theme": "   "}).status_code == 422


def test_cli_prints_the_evidence_table(
    corpus_settings: Settings, corpus_services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data-dir", str(corpus_settings.data_dir), "themes", "hate crime"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Theme: hate crime")
    rows = [line for line in out.splitlines() if line.startswith("| ")][1:]
    assert len(rows) >= 4
    assert all("hate" in row.lower() for row in rows)


def test_a_single_word_of_the_theme_whose_places_are_off_the_theme_is_not_a_term(
    client: TestClient,
) -> None:
    # "people" alone finds hundreds of paragraphs about anything; "hate crime" stays a
    # theme of its own phrases, and a one-word theme is always its own term.
    body = scan(client, "hate crime (hate incidents, people)")
    assert "people" not in body["terms"]
    assert {"hate crime", "hate incidents"} <= set(body["terms"])
    plain = scan(client, "hate crime and hate incidents")
    assert len(places(body)) <= len(places(plain)) + 2
    assert "slavery" in scan(client, "slavery")["terms"]


def test_a_long_phrase_the_papers_write_otherwise_is_found_through_the_runs_they_write(
    client: TestClient,
) -> None:
    # The papers never write "domestic abuse related incidents"; they write "domestic abuse"
    # in dozens of places, found through the runs of the phrase that they do write.
    body = scan(client, "domestic abuse related incidents")
    assert "domestic abuse" in body["terms"]
    quoting = [p for _, p in places(body) if re.search(r"domestic\s+abuse", p["quote"], re.I)]
    assert len(quoting) >= 20


def test_a_name_written_in_capitals_is_not_broken_into_runs(client: TestClient) -> None:
    # Lower-case, the phrase's runs that find more ("safeguarding adults") are terms too; as
    # a name it is matched as the name.
    assert "safeguarding adults" in scan(client, "oxfordshire safeguarding adults board")["terms"]
    named = scan(client, "Oxfordshire Safeguarding Adults Board")["terms"]
    assert "safeguarding adults" not in named
    assert "oxfordshire safeguarding adults board" in named


def test_the_served_app_builds_the_theme_index_before_any_theme_is_asked(
    corpus_settings: Settings, corpus_services: Services
) -> None:
    threads = torch.get_num_threads()
    try:
        app = serving_app(corpus_settings)
    finally:
        torch.set_num_threads(threads)
    for thread in threading.enumerate():
        if thread.name == "theme-index":
            thread.join(timeout=120)
    assert app.state.services.themes.corpus_built()
    with TestClient(app) as served:
        assert places(scan(served, "homelessness"))


def test_the_readers_words_are_read_as_if_unreadable_papers_were_not_there(
    settings: Settings, make_services: MakeServices, tmp_path: Path
) -> None:
    papers = markdown_folder(
        tmp_path / "papers",
        {
            "open.md": "# Climate update\n\n"
            "Climate change adaptation work continued across the county.\n\n"
            "Energy use in council buildings fell again.\n",
            "held.md": "# Draft strategy\n\n"
            "The Energy and Low Emissions Strategy sets a new target.\n",
        },
    )
    services = make_services(settings)
    assert ingest_paths([papers], services.index).ok
    theme = "Climate change and the Energy and Low Emissions Strategy"

    def terms(admitted: set[str] | None) -> list[str]:
        return [term.text for term in services.themes.terms(theme, admitted)]

    # All papers readable: the name is held whole, as the papers write it.
    assert "energy and low emissions strategy" in terms(None)
    # Only the open paper readable: read as though the held one did not exist.
    read_open = terms({"open"})
    assert "energy and low emissions strategy" not in read_open
    assert "climate change" in read_open
