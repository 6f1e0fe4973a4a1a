"""Restricted papers stay restricted, on every path, over real HTTP (uvicorn on loopback),
with the real model, a real Chroma store and real PDFs.

Two papers: `libraries` (public) and `disposal`, which marks itself NOT FOR PUBLICATION and so
is held at the `exempt` level. A public key asking with the held paper's own sentences gets
nothing of it — no text, no title, no id, no count; a member key gets it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import MakeServices
from papers import make_pdf

from bench.latency import serving
from ingest.store.embeddings import BundledEmbeddings
from ingest.sync import sync_folders
from service.access.audit import AuditLog, AuditRow
from service.access.keys import KeyStore
from service.api.app import create_app
from service.cli.main import main
from service.container import build_services
from service.settings import Settings

HELD = "disposal"
HELD_WORDS = "property"
# What only the held paper says (make_pdf writes its title "Property report, page 1 …", and
# "The property service recorded … contacts … the committee reviewed the property plan"): a
# response holding any of these, or the paper's id, gave some of it away. (The question asked
# is echoed back, so its own words do not count.)
HELD_TEXT = (HELD, "property report", "property service recorded", "property plan")
ASKED = "How many contacts did the property service record in quarter 1?"
WIDGET_ORIGIN = "https://intranet.example.gov.uk"


class Site:
    def __init__(self, url: str, keys: dict[str, str], settings: Settings) -> None:
        self.url = url
        self.keys = keys
        self.settings = settings

    def call(
        self, method: str, path: str, key: str | None, body: Any = None, **headers: str
    ) -> httpx.Response:
        if key is not None:
            headers["Authorization"] = f"Bearer {self.keys.get(key, key)}"
        return httpx.request(method, self.url + path, json=body, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, embeddings: BundledEmbeddings) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("access")
    papers = root / "papers"
    papers.mkdir()
    make_pdf(papers / "libraries.pdf", "libraries")
    make_pdf(papers / f"{HELD}.pdf", HELD_WORDS, mark="NOT FOR PUBLICATION")
    settings = Settings(data_dir=root / "data", rate_limits={"public": 0})
    services = build_services(settings, embeddings=embeddings)
    assert sync_folders([papers], services.index).ok
    store = KeyStore(settings.access_db_path)
    roles = ("public", "officer", "member", "admin")
    keys = {role: store.create(f"{role} key", role)[1] for role in roles}
    revoked, keys["revoked"] = store.create("gone", "member")
    store.revoke(revoked.id)
    keys["widget"] = store.create("widget", "public", origins=(WIDGET_ORIGIN,))[1]
    with serving(create_app(settings, services=services)) as url:
        yield Site(url, keys, settings)


def _leaks(response: httpx.Response) -> bool:
    text = response.text.lower()
    return any(held in text for held in HELD_TEXT)


READING_PATHS: list[tuple[str, str, Any]] = [
    ("POST", "/search", {"query": ASKED, "k": 10}),
    ("POST", "/ask", {"question": ASKED}),
    ("POST", "/ask/stream", {"question": ASKED}),
    ("POST", "/themes", {"theme": "property service contacts"}),
    ("POST", "/themes", {"theme": "property service contacts", "format": "md"}),
    ("POST", "/themes", {"theme": "property service contacts", "format": "csv"}),
    ("GET", "/documents", None),
    ("GET", "/healthz", None),
]
HELD_PATHS = [f"/documents/{HELD}", f"/documents/{HELD}/file", f"/documents/{HELD}/summary",
              f"/documents/{HELD}/recommendations"]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "body"), READING_PATHS)
def test_a_public_key_gets_nothing_of_a_held_paper(
    site: Site, method: str, path: str, body: Any
) -> None:
    asked_at = time.time()
    response = site.call(method, path, "public", body)
    assert response.status_code == 200, response.text
    assert not _leaks(response), response.text[:500]
    if path != "/healthz":  # the open health check reads no paper
        row = _audit_row(site, path, "public key", asked_at)
        assert row.status == 200
        assert set(row.documents) <= {"libraries"}  # what it was given, and nothing held


def _audit_row(site: Site, route: str, key_name: str, since: float) -> AuditRow:
    """The newest audit row of this route and key since then (written once the response has
    been sent, so it may take a moment)."""
    audit = AuditLog(site.settings.access_db_path)
    deadline = time.monotonic() + 5
    while True:
        rows = [r for r in audit.rows() if r.route == route and r.key_name == key_name
                and r.at.timestamp() >= since - 1]  # fmt: skip
        if rows:
            return rows[-1]
        assert time.monotonic() < deadline, f"no audit row for {route}"
        time.sleep(0.05)


@pytest.mark.parametrize("path", HELD_PATHS)
def test_a_held_paper_is_not_found_for_a_key_that_may_not_read_it(site: Site, path: str) -> None:
    for role in ("public", "officer"):  # exempt is above the officer's levels
        response = site.call("GET", path, role)
        assert response.status_code == 404, (role, response.text)
        # word for word what a paper that does not exist gets: its existence is not confirmed
        missing = site.call("GET", path.replace(HELD, "no-such-paper"), role)
        assert response.json() == {
            "detail": missing.json()["detail"].replace("no-such-paper", HELD)
        }
    assert site.call("GET", path, "member").status_code == 200


def test_a_member_key_reads_the_held_paper_everywhere(site: Site) -> None:
    found = site.call("POST", "/search", "member", {"query": ASKED, "k": 10}).json()
    assert HELD in {r["document"]["id"] for r in found["results"]}
    answer = site.call("POST", "/ask", "member", {"question": ASKED}).json()
    assert HELD in {c["document"]["id"] for c in answer["citations"]}
    listed = site.call("GET", "/documents", "member").json()
    assert {d["id"] for d in listed} == {"libraries", HELD}
    themes = site.call("POST", "/themes", "member", {"theme": "property service contacts"})
    assert HELD in themes.text


def test_no_key_a_wrong_key_or_a_revoked_key_gets_401(site: Site) -> None:
    for key in (None, "revoked", "bp_not-a-key"):
        response = site.call("POST", "/search", key, {"query": ASKED})
        assert response.status_code == 401, key
        assert response.headers["www-authenticate"] == "Bearer"
        assert not _leaks(response)


def test_the_widget_key_works_only_from_its_origins(site: Site) -> None:
    body = {"query": ASKED}
    assert site.call("POST", "/search", "widget", body, Origin=WIDGET_ORIGIN).status_code == 200
    elsewhere = site.call("POST", "/search", "widget", body, Origin="https://evil.example")
    assert elsewhere.status_code == 401
    assert site.call("POST", "/search", "widget", body).status_code == 401  # no page at all


def test_a_conversation_belongs_to_its_key(site: Site) -> None:
    first = site.call("POST", "/ask", "member", {"question": ASKED}).json()
    follow_up = {"question": "and in quarter 2?", "conversation_id": first["conversation_id"]}
    other = site.call("POST", "/ask", "public", follow_up)
    assert other.status_code == 404
    assert not _leaks(other)
    assert site.call("POST", "/ask/stream", "public", follow_up).status_code == 404
    assert site.call("POST", "/ask", "member", follow_up).status_code == 200


def test_each_read_is_in_the_audit_log_without_the_key(site: Site) -> None:
    started = time.time()
    site.call("POST", "/search", "member", {"query": ASKED, "k": 3})
    site.call("GET", f"/documents/{HELD}/file", "public")
    searched = _audit_row(site, "/search", "member key", started)
    assert (searched.key_name, searched.role, searched.status) == ("member key", "member", 200)
    assert searched.asked == ASKED
    assert HELD in searched.documents
    refused = _audit_row(site, "/documents/{doc_id}/file", "public key", started)
    assert (refused.key_name, refused.status, refused.documents) == ("public key", 404, {})
    stored = site.settings.access_db_path.read_bytes().decode("latin-1")
    assert all(secret not in stored for secret in site.keys.values())


def test_a_rate_limit_answers_429_and_recovers(
    tmp_path: Path, make_services: MakeServices, site: Site
) -> None:
    settings = site.settings.model_copy(update={"rate_limits": {"public": 30}})
    services = make_services(settings)
    with serving(create_app(settings, services=services)) as url:
        limited = Site(url, site.keys, settings)
        # The allowance refills as time passes (one request in 2 s at 30 a minute), so on a
        # busy machine a request or two more may pass before the first refusal.
        statuses: list[int] = []
        while 429 not in statuses and len(statuses) < 40:
            statuses.append(limited.call("GET", "/documents", "public").status_code)
        assert statuses[-1] == 429, statuses
        assert 30 <= len(statuses) - 1 <= 35, statuses
        assert set(statuses[:-1]) == {200}, statuses
        refused = limited.call("GET", "/documents", "public")
        wait = int(refused.headers["retry-after"])
        assert 1 <= wait <= 3
        assert limited.call("GET", "/documents", "member").status_code == 200  # per key
        time.sleep(wait)
        assert limited.call("GET", "/documents", "public").status_code == 200


def test_open_only_on_loopback_until_a_key_is_made(
    tmp_path: Path, make_services: MakeServices, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with serving(create_app(settings, services=make_services(settings))) as url:
        assert httpx.get(url + "/documents").status_code == 200  # the local demo needs no key
    code = main(["--data-dir", str(settings.data_dir), "serve", "--host", "0.0.0.0"])
    assert code == 2
    assert "boardpapers keys create" in capsys.readouterr().err


def test_admin_routes_need_an_admin_key(site: Site) -> None:
    for path in ("/admin/keys", "/admin/audit"):
        for role in ("public", "officer", "member"):
            assert site.call("GET", path, role).status_code == 403, (path, role)
        assert site.call("GET", path, "admin").status_code == 200
    assert site.call("DELETE", f"/documents/{HELD}", "member").status_code == 403


def test_an_admin_makes_and_revokes_keys_over_http(site: Site) -> None:
    made = site.call("POST", "/admin/keys", "admin", {"name": "Briefing unit", "role": "officer"})
    assert made.status_code == 201
    secret = made.json()["key"]
    assert site.call("GET", "/documents", secret).status_code == 200
    listed = site.call("GET", "/admin/keys", "admin").json()
    assert "Briefing unit" in {k["name"] for k in listed}
    assert all("key" not in k and secret not in str(k) for k in listed)
    assert site.call("DELETE", f"/admin/keys/{made.json()['id']}", "admin").status_code == 200
    assert site.call("GET", "/documents", secret).status_code == 401


def test_an_admin_ingests_and_removes_papers_over_http(
    tmp_path: Path, make_services: MakeServices, site: Site
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    _, admin = KeyStore(settings.access_db_path).create("ops", "admin")
    paper = make_pdf(tmp_path / "parking.pdf", "parking", mark="CONFIDENTIAL")
    with serving(create_app(settings, services=make_services(settings))) as url:
        own = Site(url, {"admin": admin}, settings)
        ingested = own.call("POST", "/admin/ingest", "admin", {"paths": [str(paper)]}).json()
        assert [(f["doc_id"], f["outcome"]) for f in ingested["files"]] == [("parking", "added")]
        assert ingested["files"][0]["access_note"] == "held as exempt: 'CONFIDENTIAL' (page 1)"
        assert own.call("GET", "/documents/parking", "admin").json()["access"] == "exempt"
        assert own.call("DELETE", "/documents/parking", "admin").status_code == 200
        assert own.call("GET", "/documents/parking", "admin").status_code == 404
