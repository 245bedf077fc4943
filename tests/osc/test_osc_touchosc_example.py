"""The TouchOSC example mapping, fed control by control to the real router, stays true."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pythonosc.osc_message_builder import build_msg

from installation.osc import addresses as A
from installation.osc.control import ControlRouter

LAYOUT = Path(__file__).resolve().parents[2] / "examples" / "touchosc" / "layout.json"
CONTROLS: list[dict[str, Any]] = json.loads(LAYOUT.read_text())["controls"]
BUTTONS = [c for c in CONTROLS if c["type"] == "button"]


def effect(address: str, args: list[Any]) -> list[str]:
    out = ControlRouter([], dict, dice=2, faces=6).handle(build_msg(address, args).dgram, "::1")
    return [type(e).__name__ for e in out.events] + [f"reply {a}" for a, _ in out.replies]


@pytest.mark.parametrize("control", BUTTONS, ids=[c["name"] for c in BUTTONS])
def test_each_button_does_what_the_layout_says(control: dict[str, Any]) -> None:
    assert effect(control["address"], control["press"]) == [control["does"]]
    if control["release"] is not None:
        assert effect(control["address"], control["release"]) == []


def test_labels_listen_to_reply_addresses() -> None:
    labels = {c["address"] for c in CONTROLS if c["type"] == "label"}
    assert labels <= {A.STATUS, A.ERROR, A.PONG}
    assert {c["address"] for c in BUTTONS} <= set(A.CONTROL_ADDRESSES)
