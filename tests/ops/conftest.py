"""Helpers for the operations tests: run a CLI command through the real parser."""

from __future__ import annotations

import argparse

import pytest

from installation.ops import commands


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="installation")
    commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


@pytest.fixture
def cli() -> object:
    return run_cli
