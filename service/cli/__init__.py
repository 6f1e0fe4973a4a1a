"""The `boardpapers` command line: `main` parses and dispatches to one function per command."""

from service.cli.main import main

__all__ = ["main"]
