"""Errors the service turns into clear HTTP responses (never a hang, never a bare 500)."""

from __future__ import annotations


class UpstreamError(Exception):
    """The LLM endpoint failed; the message says which and what to check."""


class UpstreamTimeout(UpstreamError):
    """The LLM endpoint did not answer in time."""
