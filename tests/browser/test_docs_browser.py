"""`/docs` in a real browser with no internet: headless Chromium, every request to a host other
than the service's own refused, sees the API's operations listed (Swagger UI from the package,
not a CDN)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from conftest import MakeServices

from bench.latency import serving
from service.api.app import create_app
from service.settings import Settings

pytestmark = pytest.mark.browser

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@pytest.fixture
def service_url(settings: Settings, make_services: MakeServices) -> Iterator[str]:
    with serving(create_app(settings, services=make_services(settings))) as url:
        yield url


def test_docs_list_the_operations_with_no_internet(browser: object, service_url: str) -> None:
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    refused: list[str] = []

    def offline(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if urlsplit(url).hostname in LOCAL_HOSTS or url.startswith(("data:", "blob:")):
            route.continue_()  # type: ignore[attr-defined]
        else:
            refused.append(url)
            route.abort("internetdisconnected")  # type: ignore[attr-defined]

    page.route("**/*", offline)
    try:
        page.goto(f"{service_url}/docs")
        paths = page.locator(".opblock-summary-path")
        paths.first.wait_for(timeout=30_000)
        listed = {text.strip().replace("\u200b", "") for text in paths.all_inner_texts()}
        assert page.locator(".info .title").inner_text().startswith("boardpapers")
        assert page.locator("button.authorize").is_visible()  # a key can be sent from here
    finally:
        context.close()
    assert {"/search", "/ask", "/ask/stream", "/documents/{doc_id}", "/readyz"} <= listed, listed
    assert refused == []  # the page asked for nothing beyond the service
