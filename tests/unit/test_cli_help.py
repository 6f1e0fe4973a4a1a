"""The command line explains itself: every option described, examples, a version."""

from __future__ import annotations

import argparse

import pytest

from service.cli.main import build_parser, main


def _sub_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[name] = sub
                found.update({f"{name} {n}": s for n, s in _sub_parsers(sub).items()})
    return found


def test_every_option_of_every_command_says_what_it_is() -> None:
    undescribed = [
        f"{name}: {'/'.join(action.option_strings) or action.dest}"
        for name, sub in _sub_parsers(build_parser()).items()
        for action in sub._actions
        if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction)
        and not action.help
    ]
    assert undescribed == []


def test_help_shows_examples_and_the_version_is_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert "examples:" in build_parser().format_help()
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("boardpapers ")


def test_every_command_shows_an_example_of_itself() -> None:
    top = build_parser()
    commands = next(
        action for action in top._actions if isinstance(action, argparse._SubParsersAction)
    )
    without = [
        name
        for name, sub in commands.choices.items()
        if f"boardpapers {name}" not in sub.format_help()
    ]
    assert without == []
