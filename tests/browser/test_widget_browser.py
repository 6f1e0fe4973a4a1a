"""The chat widget in a real browser: Debian's headless Chromium driven by Playwright, against
the app served by a real uvicorn over the sample corpus.

Screenshots go to each test's tmp dir (printed, so `pytest -s` shows where).
"""

from __future__ import annotations

import dataclasses
import functools
import http.server
import itertools
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from pypdf import PdfReader

from ingest.text.sentences import sentence_spans
from service.answers.llm import LLMAnswerer
from service.api.app import create_app
from service.citations import canonical, is_verbatim, on_pages
from service.container import Services
from service.retrieval.hits import chunk_hits
from service.settings import Settings

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
ANSWER_TIMEOUT_MS = 60_000

# A question and a follow-up that only makes sense after it (the subject comes from turn one).
FIRST = "How much funding was allocated to Cherwell District Council for 2021/22?"
# An answer of several sentences, to watch it arrive in pieces.
STREAMED = "What did the Oxfordshire Child Death Overview Panel report for 2023/24?"
FOLLOW_UP = "And what about West Oxfordshire?"
# Answered by a fake chat model as a list (see `list_server`).
LISTED = (
    "How many cases of neighbour nuisance did the Anti-Social Behaviour Investigation Team "
    "look into in 2014?"
)
LISTED_FACT = "investigated over 680 cases of neighbour nuisance in 2014"
LISTED_LEAD = "Two passages bear on this:"


@dataclass
class LiveServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(app: object, port: int) -> LiveServer:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    return LiveServer(f"http://127.0.0.1:{port}", server, thread)


@pytest.fixture(scope="module")
def host_port() -> int:
    """The port of the other-origin page that embeds the widget (known before the app is built,
    so CORS can allow it)."""
    return _free_port()


@pytest.fixture(scope="module")
def live_server(
    corpus_services: Services, tmp_path_factory: pytest.TempPathFactory, host_port: int
) -> Iterator[LiveServer]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("widget-data"),
        cors_origins=[f"http://127.0.0.1:{host_port}"],
    )
    live = _serve(create_app(settings, services=corpus_services), _free_port())
    yield live
    live.server.should_exit = True
    live.thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail("no /usr/bin/chromium: run scripts/install-browser.sh (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object, live_server: LiveServer) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})  # type: ignore[attr-defined]
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    yield page
    context.close()


# Records every version of every answer the page draws, to show the answer arrives in pieces.
RECORD_DRAWS = """
window.bpDraws = [];
new MutationObserver((records) => {
  for (const r of records) {
    if (r.target.classList && r.target.classList.contains("bp-answer") && r.addedNodes.length) {
      window.bpDraws.push(Array.from(r.addedNodes, (n) => n.textContent).join(""));
    }
  }
}).observe(document, {childList: true, subtree: true});
"""


def ask(page: object, question: str, turn: int) -> object:
    """Types the question, presses Enter, waits for the finished answer; returns the turn."""
    box = page.get_by_label("Your question")  # type: ignore[attr-defined]
    box.fill(question)
    box.press("Enter")
    answer = page.locator(".bp-turn").nth(turn - 1).locator(".bp-answer")  # type: ignore[attr-defined]
    answer.and_(page.locator('[aria-busy="false"]')).wait_for(timeout=ANSWER_TIMEOUT_MS)  # type: ignore[attr-defined]
    return page.locator(".bp-turn").nth(turn - 1)  # type: ignore[attr-defined]


def squash(text: str) -> str:
    return " ".join(text.split())


def shot(page: object, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    print(f"screenshot: {path}")
    return path


def test_answer_streams_in_with_linked_citations(
    page: object, live_server: LiveServer, tmp_path: Path
) -> None:
    page.add_init_script(RECORD_DRAWS)  # type: ignore[attr-defined]
    page.goto(live_server.url + "/")  # type: ignore[attr-defined]
    turn = ask(page, STREAMED, 1)
    shot(page, tmp_path, "answer")
    final = turn.locator(".bp-answer").inner_text()  # type: ignore[attr-defined]
    draws = [d for d in page.evaluate("window.bpDraws") if d]  # type: ignore[attr-defined]
    # Progressive: several growing drafts, each a prefix of the next, ending at the answer.
    assert len(set(draws)) >= 2, draws
    assert all(b.startswith(a) for a, b in zip(draws, draws[1:], strict=False)), draws
    assert draws[-1] == final
    assert "38 children" in final
    markers = turn.locator("a.bp-marker")  # type: ignore[attr-defined]
    assert markers.count() >= 1
    assert len(re.findall(r"\[\d+\]", final)) == markers.count()
    sources = turn.locator(".bp-source")  # type: ignore[attr-defined]
    assert sources.count() == len(set(re.findall(r"\[(\d+)\]", final)))
    first_source = sources.first.inner_text()
    assert "Oxfordshire Health & Wellbeing Board" in first_source  # the body
    assert re.search(r"\d{1,2} \w+ \d{4}", first_source)  # the date
    assert re.search(r"\bp\. \d+", first_source)  # the page
    # No card repeats a quote the answer already shows (the extractive answer's sentences are
    # its quotes); such a card keeps its document, page and link.
    for card in sources.all():
        quote = card.locator(".bp-quote")
        if quote.is_visible():
            assert squash(quote.inner_text().strip("“”")) not in squash(final)
        assert card.locator("a.bp-open").is_visible()
    # The copy button puts “quote” — Title, Body, date, p. N on the clipboard, shown or not.
    sources.first.get_by_role("button", name=re.compile("Copy quote")).click()
    copied = page.evaluate("navigator.clipboard.readText()")  # type: ignore[attr-defined]
    quote = sources.first.locator(".bp-quote").text_content()
    assert copied.startswith(quote)
    assert re.search(
        r" — .+, Oxfordshire Health & Wellbeing Board, 5 December 2024, p\. \d+", copied
    )


def test_citation_opens_the_pdf_at_its_page(
    page: object, live_server: LiveServer, tmp_path: Path
) -> None:
    page.goto(live_server.url + "/")  # type: ignore[attr-defined]
    turn = ask(page, FIRST, 1)
    marker = turn.locator("a.bp-marker").first  # type: ignore[attr-defined]
    n = int(marker.inner_text().strip("[]"))
    with page.context.expect_page() as opened:  # type: ignore[attr-defined]
        marker.click()
    pdf_url = opened.value.url
    match = re.fullmatch(
        re.escape(live_server.url) + r"/documents/([\w.-]+)/file#page=(\d+)", pdf_url
    )
    assert match, pdf_url
    page_number = int(match.group(2))
    # The page in the URL is the page the cited quote is on in the served PDF.
    source = turn.locator(f'.bp-source[data-n="{n}"]')  # type: ignore[attr-defined]
    quote = source.locator(".bp-quote").text_content().strip("“”")  # shown or not
    with urllib.request.urlopen(pdf_url.split("#")[0]) as response:  # noqa: S310 (loopback)
        assert response.headers["content-type"] == "application/pdf"
        reader = PdfReader(BytesIO(response.read()))
    text = {page_number: reader.pages[page_number - 1].extract_text()}
    assert on_pages(quote, text, page_number, page_number)
    assert f"p. {page_number}" in source.inner_text()


def test_follow_up_is_answered_about_the_new_subject(
    page: object, live_server: LiveServer, tmp_path: Path
) -> None:
    page.goto(live_server.url + "/")  # type: ignore[attr-defined]
    ask(page, FIRST, 1)
    second = ask(page, FOLLOW_UP, 2)
    shot(page, tmp_path, "follow-up")
    searched = second.locator(".bp-searched").inner_text()  # type: ignore[attr-defined]
    assert "West Oxfordshire" in searched
    assert "funding" in searched
    assert "Cherwell" not in searched
    answer = second.locator(".bp-answer").inner_text()  # type: ignore[attr-defined]
    assert "West Oxfordshire" in answer
    assert "£33,422" in answer


def test_filters_and_keyboard_at_phone_width(
    page: object, live_server: LiveServer, tmp_path: Path
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
    page.goto(live_server.url + "/")  # type: ignore[attr-defined]
    page.get_by_text("Filters").click()  # type: ignore[attr-defined]
    body = page.get_by_label("Body")  # type: ignore[attr-defined]
    body.locator("option", has_text="Safer Oxfordshire Partnership").wait_for(state="attached")
    body.select_option("Safer Oxfordshire Partnership")
    page.get_by_label("Papers from").fill("2017-01-01")  # type: ignore[attr-defined]
    # Keyboard only: focus the question box, type, Enter; then Tab reaches a citation link.
    page.get_by_label("Your question").focus()  # type: ignore[attr-defined]
    page.keyboard.type("What did the Safeguarding Adults Board report?")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    turn = page.locator(".bp-turn").first  # type: ignore[attr-defined]
    turn.locator('.bp-answer[aria-busy="false"]').wait_for(timeout=ANSWER_TIMEOUT_MS)
    shot(page, tmp_path, "phone")
    metas = turn.locator(".bp-source-meta").all_inner_texts()
    assert metas
    assert all(m.startswith("Safer Oxfordshire Partnership ·") for m in metas), metas
    assert all(int(re.search(r"(\d{4})", m).group(1)) >= 2017 for m in metas)  # type: ignore[union-attr]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # type: ignore[attr-defined]
    marker = turn.locator("a.bp-marker").first
    marker.focus()
    outline = marker.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline == "solid"  # focus is visible
    assert turn.locator(".bp-answer").get_attribute("aria-live") == "polite"


def _serve_host_page(folder: Path, port: int) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def test_widget_embedded_in_a_page_on_another_origin(
    page: object, live_server: LiveServer, host_port: int, tmp_path: Path
) -> None:
    site = tmp_path / "intranet"
    site.mkdir()
    (site / "index.html").write_text(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Intranet</title></head>"
        "<body><h1>Officers' intranet</h1><p>Other content of the host page.</p>"
        "<div data-boardpapers></div>"
        f'<script src="{live_server.url}/static/widget.js"></script></body></html>',
        encoding="utf-8",
    )
    httpd = _serve_host_page(site, host_port)
    try:
        page.goto(f"http://127.0.0.1:{host_port}/")  # type: ignore[attr-defined]
        turn = ask(page, FIRST, 1)
        shot(page, tmp_path, "embedded")
        assert "£34,385" in turn.locator(".bp-answer").inner_text()  # type: ignore[attr-defined]
        # Links point at the API's origin, not the host page's.
        href = turn.locator("a.bp-marker").first.get_attribute("href")  # type: ignore[attr-defined]
        assert href.startswith(live_server.url + "/documents/"), href
        assert turn.locator(".bp-source").count() >= 1  # type: ignore[attr-defined]
    finally:
        httpd.shutdown()
        httpd.server_close()


def _intranet_page(path: Path, body: str, service_url: str, script_attributes: str = "") -> None:
    """A page of another site embedding the widget: `body`, then the widget's script tag."""
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Intranet</title></head>"
        f'<body>{body}<script src="{service_url}/static/widget.js" {script_attributes}>'
        "</script></body></html>",
        encoding="utf-8",
    )


def test_widget_with_its_own_key_answers_only_from_its_origin(
    browser: object, corpus_services: Services, host_port: int, tmp_path: Path
) -> None:
    """On a service with keys, the widget sends the key named in its snippet; a key made for
    another origin is refused, and the widget says so rather than failing silently."""
    from service.access.keys import KeyStore

    origin = f"http://127.0.0.1:{host_port}"
    settings = Settings(data_dir=tmp_path / "keyed", cors_origins=[origin])
    keys = KeyStore(settings.access_db_path)
    _, ours = keys.create("intranet widget", "public", origins=(origin,))
    _, elsewhere = keys.create("other widget", "public", origins=("https://elsewhere.example",))
    live = _serve(create_app(settings, services=corpus_services), _free_port())
    site = tmp_path / "intranet"
    for name, key in (("ours.html", ours), ("elsewhere.html", elsewhere)):
        _intranet_page(site / name, "<div data-boardpapers></div>", live.url, f'data-key="{key}"')
    httpd = _serve_host_page(site, host_port)
    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(f"{origin}/ours.html")
        turn = ask(page, FIRST, 1)
        assert "£34,385" in turn.locator(".bp-answer").inner_text()  # type: ignore[attr-defined]
        # A plain link cannot carry the key: the cited paper opens from a copy fetched with it.
        marker = turn.locator("a.bp-marker").first  # type: ignore[attr-defined]
        href = marker.get_attribute("href")
        with pytest.raises(urllib.error.HTTPError, match="401"):
            urllib.request.urlopen(href.split("#")[0])  # noqa: S310 (loopback)
        with context.expect_page() as opened:
            marker.click()
        opened.value.wait_for_url(re.compile(r"^blob:.*#page=\d+$"), timeout=20_000)
        refused = context.new_page()
        refused.goto(f"{origin}/elsewhere.html")
        answer = ask(refused, FIRST, 1).locator(".bp-answer").inner_text()  # type: ignore[attr-defined]
        assert "£34,385" not in answer
        assert "key" in answer.lower(), answer
    finally:
        context.close()
        httpd.shutdown()
        httpd.server_close()
        live.server.should_exit = True
        live.thread.join(timeout=10)


def test_widget_says_plainly_when_the_service_cannot_be_reached(
    browser: object, live_server: LiveServer, host_port: int, tmp_path: Path
) -> None:
    """Not a bare "Failed to fetch": which service, and what to do."""
    down = f"http://127.0.0.1:{_free_port()}/"  # nothing listens there
    site = tmp_path / "intranet"
    _intranet_page(site / "index.html", f'<div data-boardpapers data-api="{down}"></div>',
                   live_server.url)  # fmt: skip
    httpd = _serve_host_page(site, host_port)
    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{host_port}/")
        answer = ask(page, FIRST, 1).locator(".bp-answer").inner_text()  # type: ignore[attr-defined]
        assert f"The papers service at {down} cannot be reached" in answer, answer
        assert "Failed to fetch" not in answer
    finally:
        context.close()
        httpd.shutdown()
        httpd.server_close()


@dataclass
class ListServer:
    live: LiveServer
    item_quote: str  # passage 1's sentence, said word for word by the first bullet
    other_quote: str  # passage 2's quote, which the answer does not say


@pytest.fixture(scope="module")
def list_server(
    corpus_services: Services, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ListServer]:
    """The app over the corpus, its answers written by a LangChain fake chat model: a lead and
    two bullets, the first bullet being a cited passage's sentence word for word."""
    limit = corpus_services.settings.answer_passages
    hits = chunk_hits(corpus_services.retriever.search(LISTED, k=6)[:limit])  # as the model sees
    fact = next(n for n, hit in enumerate(hits, 1) if is_verbatim(LISTED_FACT, hit.chunk.text))
    other = next(n for n in range(len(hits), 0, -1) if n != fact)

    def sentence(text: str, words: str | None = None) -> str:
        found = [canonical(text[a:b]) for a, b in sentence_spans(text)]
        return next(s for s in found if words in s) if words else max(found, key=len)

    item_quote = sentence(hits[fact - 1].chunk.text, LISTED_FACT)
    other_quote = sentence(hits[other - 1].chunk.text)
    assert other_quote not in item_quote
    reply = (
        f"{LISTED_LEAD}\n\n- {item_quote} [{fact}]\n- The papers also describe related work "
        f'[{other}]\n\nQUOTES:\n[{fact}] "{item_quote}"\n[{other}] "{other_quote}"'
    )
    model = GenericFakeChatModel(messages=itertools.cycle([AIMessage(reply)]))
    answerer = LLMAnswerer(corpus_services.index, corpus_services.settings, model)
    services = dataclasses.replace(corpus_services, answerer=answerer)
    settings = Settings(data_dir=tmp_path_factory.mktemp("widget-list-data"))
    live = _serve(create_app(settings, services=services), _free_port())
    yield ListServer(live, item_quote, other_quote)
    live.server.should_exit = True
    live.thread.join(timeout=10)


def test_list_answer_renders_as_bullets_and_cards_do_not_repeat_its_quotes(
    browser: object, list_server: ListServer, tmp_path: Path
) -> None:
    url = list_server.live.url
    context = browser.new_context(viewport={"width": 1100, "height": 900})  # type: ignore[attr-defined]
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
    page = context.new_page()
    try:
        page.goto(url + "/")
        turn: Any = ask(page, LISTED, 1)
        shot(page, tmp_path, "list")
        answer = turn.locator(".bp-answer")
        # The lead paragraph, then a real list: one <li> per entry, no "- " left in the text.
        assert answer.locator("p.bp-lead").inner_text() == LISTED_LEAD
        bullets = answer.locator("ul.bp-items > li")
        assert bullets.all_inner_texts() == [
            f"{list_server.item_quote} [1]",
            "The papers also describe related work [2]",
        ]
        assert "- " not in answer.inner_text()
        # Each bullet's marker links its source: the PDF at the quote's page, and its card.
        for n, bullet in enumerate(bullets.all(), start=1):
            marker = bullet.locator("a.bp-marker")
            assert marker.count() == 1
            assert marker.inner_text() == f"[{n}]"
            card = turn.locator(f'.bp-source[data-n="{n}"]')
            page_number = re.search(r"\bp\. (\d+)", card.inner_text()).group(1)  # type: ignore[union-attr]
            href = marker.get_attribute("href")
            assert re.fullmatch(
                re.escape(url) + rf"/documents/[\w.-]+/file#page={page_number}", href or ""
            ), href
            assert href == card.locator("a.bp-open").get_attribute("href")
            marker.hover()
            assert "bp-highlight" in (card.get_attribute("class") or "")
        with page.context.expect_page() as opened:
            bullets.nth(1).locator("a.bp-marker").click()
        assert opened.value.url == bullets.nth(1).locator("a.bp-marker").get_attribute("href")
        # Card 1's quote is the first bullet word for word: not shown again; its document,
        # page and link are. Card 2's quote is not in the answer: shown.
        first, second = turn.locator(".bp-source").all()
        assert first.locator(".bp-quote").is_hidden()
        assert list_server.item_quote not in first.inner_text()
        assert first.locator(".bp-source-title").is_visible()
        assert re.search(r"\bp\. \d+", first.locator(".bp-source-meta").inner_text())
        assert first.locator("a.bp-open").is_visible()
        assert second.locator(".bp-quote").is_visible()
        shown = canonical(second.locator(".bp-quote").inner_text())
        assert shown == canonical(f"“{list_server.other_quote}”")
        # The hidden quote still goes out with "Copy with reference".
        first.get_by_role("button", name=re.compile("Copy quote")).click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert canonical(copied).startswith(canonical(f"“{list_server.item_quote}”"))
    finally:
        context.close()
