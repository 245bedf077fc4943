"""The fallback engine answers to the prompt's words (real show files, real derivation)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from PIL import Image

from installation.core.dice import Throw, all_outcomes
from installation.core.variations import derive_variation
from installation.engines.fallback import FallbackEngine
from installation.engines.words import look_for
from installation.show.load import load_show
from installation.show.schema import variation_rule

SHOW = """
[show]
name = "words"
[artwork]
paintings = ["p.png"]
[dice]
count = 2
faces = 3
[variations]
prompt = "an oil painting of a harbour, {{die1}}, {{die2}}"
variants = [{die1}, ["as a sketch", "in thick impasto", "in watercolour"]]
width = 96
height = 64
"""


def pictures(folder: Path, die1: list[str]) -> dict[str, np.ndarray]:
    (folder / "show.toml").write_text(
        textwrap.dedent(SHOW.format(die1=repr(die1).replace("'", '"')))
    )
    show = load_show(folder)
    rule = variation_rule(show)
    engine = FallbackEngine((folder / "p.png",))
    out = {}
    for faces in all_outcomes(2, 3):
        v = derive_variation(rule, Throw(faces))
        out[v.key] = engine.render(v)
    return out


def test_one_changed_word_changes_exactly_the_outcomes_that_use_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    Image.fromarray(rng.integers(0, 255, (48, 72, 3), dtype=np.uint8)).save(tmp_path / "p.png")
    before = pictures(tmp_path, ["at dawn", "at dusk", "at night"])
    after = pictures(tmp_path, ["at dawn", "at golden hour", "at night"])  # die 1, face 2
    changed = {key for key in before if not np.array_equal(before[key], after[key])}
    assert changed == {"2-1", "2-2", "2-3"}
    again = pictures(tmp_path, ["at dawn", "at golden hour", "at night"])
    assert all(np.array_equal(after[k], again[k]) for k in after)  # deterministic


def test_every_outcome_differs_and_light_words_set_the_light(tmp_path: Path) -> None:
    Image.new("RGB", (72, 48), (150, 140, 120)).save(tmp_path / "p.png")
    shown = pictures(tmp_path, ["at noon", "at dusk", "at night"])
    means = {key: float(image.mean()) for key, image in shown.items()}
    for second in (1, 2, 3):
        assert means[f"1-{second}"] > means[f"2-{second}"] > means[f"3-{second}"]
    flat = [image.tobytes() for image in shown.values()]
    assert len(set(flat)) == len(flat)


def test_look_names_the_words_it_knows() -> None:
    look = look_for("a harbour at dusk, golden, in thick impasto, mirror")
    assert set(look.known) == {"dusk", "golden", "thick", "impasto", "mirror"}
    assert look.composition == "mirror" and look.brush > 1 and look.brightness < 1
    assert look_for("a cat") != look_for("a dog")  # unknown words still shift the look
