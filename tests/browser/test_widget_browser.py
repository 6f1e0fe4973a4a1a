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
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage
from pypdf import PdfReader

from ingest.text.sentences import sentence_spans
from service.answers.llm import LLMAnswerer
from service.api.app import create_app
from service.citations import canonical, is_verbatim, on_pages
from service.container import Services
from service.llm.models import make_chat_model
from service.retrieval.hits import chunk_hits
from service.settings import Settings

pytestmark = pytest.mark.browser

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

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


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
    live.stop()


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


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Serves the host page without a line per request on the test's output."""


def _serve_host_page(folder: Path, port: int) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(_QuietHandler, directory=str(folder))
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
        assert "The papers service refused this widget's key." in answer, answer
        assert f"a key made for this page ({origin})" in answer
        assert "data-key" in answer
        detail = refused.locator(".bp-answer .bp-failure-detail").text_content()
        assert "this key works only from https://elsewhere.example" in detail
    finally:
        context.close()
        httpd.shutdown()
        httpd.server_close()
        live.stop()


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


# Failures: whatever goes wrong, the widget keeps its frame and says what happened and what to
# do. Each test puts a real service in the failing state.


def _embed_snippet(service_url: str) -> str:
    """The README's snippet's element: a frame of its own (title, question box, message) that
    the widget replaces once its script has run, and that stays when the service is down as
    the page loads (its script cannot load then either)."""
    return (
        "<div data-boardpapers>\n"
        "  <h2>Ask the board papers</h2>\n"
        '  <textarea aria-label="Your question" rows="2" disabled></textarea>\n'
        f'  <p role="status">The papers service at {service_url}/ has not answered. If this\n'
        "    stays, it cannot be reached: try again later, or tell its administrator.</p>\n"
        "</div>\n"
    )


@contextmanager
def _running(app: object) -> Iterator[LiveServer]:
    live = _serve(app, _free_port())
    try:
        yield live
    finally:
        live.stop()  # a second stop of a stopped server does nothing


@contextmanager
def _hosting(site: Path, port: int) -> Iterator[str]:
    """The intranet's own site (its pages in `site`), on another origin than the service."""
    httpd = _serve_host_page(site, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def _reader(browser: Any) -> Iterator[Any]:
    """A page in a browser context of its own (its own cache: nothing loaded before)."""
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


def _assert_frame_shown(page: Any) -> None:
    """The widget's frame as a reader sees it: its title, a question box and the Ask button."""
    assert page.locator(".bp-title").is_visible()
    box = page.get_by_label("Your question")
    assert box.is_visible()
    assert box.is_enabled()
    assert page.get_by_role("button", name="Ask", exact=True).is_visible()


def _notice(page: Any) -> Any:
    """The message the widget shows as it loads when it cannot work here."""
    notice = page.locator(".bp-notice")
    notice.wait_for(state="visible", timeout=20_000)
    return notice


def _failed_answer(page: Any, question: str = FIRST) -> Any:
    answer = ask(page, question, 1).locator(".bp-answer")  # type: ignore[attr-defined]
    assert "bp-error" in (answer.get_attribute("class") or "")
    return answer


def test_service_down_after_or_before_the_page_loads(
    browser: Any, corpus_services: Services, host_port: int, tmp_path: Path
) -> None:
    site = tmp_path / "intranet"
    origin = f"http://127.0.0.1:{host_port}"
    settings = Settings(data_dir=tmp_path / "data", cors_origins=[origin])
    with (
        _running(create_app(settings, services=corpus_services)) as service,
        _hosting(site, host_port),
    ):
        _intranet_page(site / "index.html", _embed_snippet(service.url), service.url)
        with _reader(browser) as page:
            page.goto(origin + "/")
            body = page.get_by_label("Body")
            body.locator("option", has_text="Safer Oxfordshire Partnership").wait_for(
                state="attached"
            )
            _assert_frame_shown(page)
            assert page.locator(".bp-notice").is_hidden()  # the service answers
            assert "has not answered" not in page.inner_text("body")  # the snippet's frame went
            service.stop()
            answer = _failed_answer(page).inner_text()
            shot(page, tmp_path, "down-after-load")
            assert f"The papers service at {service.url}/ cannot be reached" in answer, answer
            assert "Try again in a few minutes" in answer
            assert "Failed to fetch" not in answer
            _assert_frame_shown(page)
        # Down as the page loads: its script cannot load; the element's own frame stays.
        with _reader(browser) as page:
            page.goto(origin + "/")
            shot(page, tmp_path, "down-at-load")
            assert page.get_by_role("heading", name="Ask the board papers").is_visible()
            assert page.get_by_label("Your question").is_visible()
            status = page.get_by_role("status").inner_text()
            assert f"The papers service at {service.url}/ has not answered" in status
            assert "cannot be reached" in status


def test_a_page_whose_origin_the_service_does_not_allow(
    browser: Any, corpus_services: Services, host_port: int, tmp_path: Path
) -> None:
    """fetch fails as it does for a service that is down; the probe tells them apart."""
    site = tmp_path / "intranet"
    settings = Settings(data_dir=tmp_path / "data", cors_origins=["https://elsewhere.example"])
    with (
        _running(create_app(settings, services=corpus_services)) as service,
        _hosting(site, host_port) as origin,
        _reader(browser) as page,
    ):
        _intranet_page(site / "index.html", _embed_snippet(service.url), service.url)
        page.goto(origin + "/")
        told = (
            f"The papers service at {service.url}/ is running but does not accept requests from"
            f" this page ({origin}). Ask the papers service's administrator to add {origin} to"
            " BOARDPAPERS_CORS_ORIGINS"
        )
        notice = _notice(page).inner_text()
        assert told in notice, notice
        _assert_frame_shown(page)
        answer = _failed_answer(page).inner_text()
        shot(page, tmp_path, "origin-refused")
        assert told in answer, answer


def test_a_missing_or_wrong_key_says_to_ask_for_one(
    browser: Any, corpus_services: Services, host_port: int, tmp_path: Path
) -> None:
    from service.access.keys import KeyStore

    site = tmp_path / "intranet"
    origin = f"http://127.0.0.1:{host_port}"
    settings = Settings(data_dir=tmp_path / "keyed", cors_origins=[origin])
    KeyStore(settings.access_db_path).create("intranet widget", "public", origins=(origin,))
    how = (
        f"Ask the papers service's administrator for a key made for this page ({origin}) and"
        " set it as the widget's data-key."
    )
    with (
        _running(create_app(settings, services=corpus_services)) as service,
        _hosting(site, host_port),
    ):
        snippet = _embed_snippet(service.url)
        _intranet_page(site / "none.html", snippet, service.url)
        _intranet_page(site / "wrong.html", snippet, service.url, 'data-key="bp_not-a-key"')
        with _reader(browser) as page:
            page.goto(origin + "/none.html")
            notice = _notice(page).inner_text()
            assert f"The papers service needs a key, and this widget has none. {how}" in notice
            _assert_frame_shown(page)
        with _reader(browser) as page:
            page.goto(origin + "/wrong.html")
            notice = _notice(page)
            assert f"The papers service refused this widget's key. {how}" in notice.inner_text()
            # The service's own words, for its administrator, folded under the message.
            assert "not valid" in notice.locator(".bp-failure-detail").text_content()
            _assert_frame_shown(page)
            answer = _failed_answer(page).inner_text()
            shot(page, tmp_path, "key-refused")
            assert f"The papers service refused this widget's key. {how}" in answer


def test_past_the_keys_rate_limit_says_when_to_retry(
    browser: Any, corpus_services: Services, host_port: int, tmp_path: Path
) -> None:
    from service.access.keys import KeyStore

    site = tmp_path / "intranet"
    origin = f"http://127.0.0.1:{host_port}"
    # One request a minute: the widget's look-up of the papers as it loads uses it up.
    settings = Settings(
        data_dir=tmp_path / "keyed", cors_origins=[origin], rate_limits={"public": 1}
    )
    _, key = KeyStore(settings.access_db_path).create("widget", "public", origins=(origin,))
    with (
        _running(create_app(settings, services=corpus_services)) as service,
        _hosting(site, host_port),
        _reader(browser) as page,
    ):
        _intranet_page(site / "index.html", _embed_snippet(service.url), service.url,
                       f'data-key="{key}"')  # fmt: skip
        page.goto(origin + "/")
        page.get_by_label("Body").locator(
            "option", has_text="Safer Oxfordshire Partnership"
        ).wait_for(state="attached")
        answer = _failed_answer(page).inner_text()
        shot(page, tmp_path, "rate-limited")
        said = re.search(
            r"This widget has asked more questions than its key allows in a minute\. "
            r"Try again in (\d+) seconds\.",
            answer,
        )
        assert said, answer  # the wait is read from Retry-After
        assert 1 <= int(said.group(1)) <= 60
        _assert_frame_shown(page)


def test_a_busy_service_says_when_to_retry(
    browser: Any, corpus_services: Services, tmp_path: Path
) -> None:
    """One work slot, held by another reader's answer that a slow model is still writing."""
    settings = Settings(data_dir=tmp_path / "data", work_slots=1, work_wait_seconds=0.0)
    slow = FakeListChatModel(responses=["The papers say little of this [1]. " * 20], sleep=0.05)
    answerer = LLMAnswerer(corpus_services.index, settings, slow)
    services = dataclasses.replace(corpus_services, answerer=answerer, llm=slow)
    with (
        _running(create_app(settings, services=services)) as service,
        _reader(browser) as first,
    ):
        first.goto(service.url + "/")
        first.get_by_label("Your question").fill(STREAMED)
        first.get_by_label("Your question").press("Enter")
        first.locator(".bp-status", has_text="writing the answer").wait_for(timeout=30_000)
        second = first.context.new_page()
        second.goto(service.url + "/")
        answer = _failed_answer(second).inner_text()
        shot(second, tmp_path, "busy")
        assert "The papers service is busy answering other questions. Try again in 1 second." in (
            answer
        ), answer
        _assert_frame_shown(second)


@pytest.mark.parametrize(
    ("endpoint", "said"), [("refusing", "failed"), ("silent", "did not answer in time")]
)
def test_a_failing_language_model_says_to_try_later(
    browser: Any, corpus_services: Services, tmp_path: Path, endpoint: str, said: str
) -> None:
    """The LLM endpoint refuses connections, or takes them and never answers."""
    with socket.socket() as llm_endpoint:
        llm_endpoint.bind(("127.0.0.1", 0))
        if endpoint == "silent":
            llm_endpoint.listen()
        url = f"http://127.0.0.1:{llm_endpoint.getsockname()[1]}/v1"
        settings = Settings(
            data_dir=tmp_path / "data", answerer="llm", llm_base_url=url, llm_model="m",
            llm_timeout=1.0,
        )  # fmt: skip
        model = make_chat_model(settings)
        answerer = LLMAnswerer(corpus_services.index, settings, model)
        services = dataclasses.replace(corpus_services, answerer=answerer, llm=model)
        with _running(create_app(settings, services=services)) as service, _reader(browser) as page:
            page.goto(service.url + "/")
            answer = _failed_answer(page)
            shot(page, tmp_path, f"llm-{endpoint}")
            assert (
                f"The answer could not be written: the language model the papers service uses"
                f" {said}. Try again in a few minutes; if it keeps failing, tell the papers"
                " service's administrator."
            ) in answer.inner_text()
            assert url in answer.locator(".bp-failure-detail").text_content()
            _assert_frame_shown(page)
