"""The fallback engine: deterministic, varied, right-sized, and never failing the wall."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from installation.core.variations import RenderParams, Variation
from installation.engines import fallback
from installation.engines.fallback import FallbackEngine, procedural_base, vary
from installation.errors import EngineError

ARTWORK = Path(__file__).resolve().parents[2] / "shows" / "demo" / "artwork.png"


def variation(
    seed: int, w: int = 96, h: int = 96, strength: float = 0.6, painting: int = 0
) -> Variation:
    return Variation(
        faces=(3, 5),
        key="3-5",
        number=1,
        seed=seed,
        prompt="p",
        negative_prompt="",
        params=RenderParams(strength, 4, 1.0, w, h),
        painting=painting,
    )


def solid(path: Path, colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", (40, 30), colour).save(path)
    return path


def mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference in 0..255 levels."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_describes_itself() -> None:
    engine = FallbackEngine()
    assert engine.name == "fallback"
    d = engine.describe()
    assert d["engine"] == "fallback" and d["algorithm"] == fallback.ALGORITHM
    assert d["numpy"] == np.__version__
    assert "FallbackEngine" in repr(engine)


@pytest.mark.parametrize("paintings", [(), (ARTWORK,)])
def test_same_seed_same_bytes(paintings: tuple[Path, ...]) -> None:
    a = FallbackEngine(paintings).render(variation(12345, 80, 64))
    b = FallbackEngine(paintings).render(variation(12345, 80, 64))
    assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("paintings", [(), (ARTWORK,)])
def test_different_seeds_differ_visibly(paintings: tuple[Path, ...]) -> None:
    # 8 levels of 255 on average (about 3 %) is well above what an eye misses between two
    # prints of one image, and below what these operations produce (measured: the demo
    # artwork's closest pair of these 20 seeds differs by ~13 levels at strength 0.6, the
    # procedural base's by ~27).
    engine = FallbackEngine(paintings)
    images = [engine.render(variation(seed)) for seed in range(1000, 1020)]
    diffs = [mad(images[i], images[j]) for i in range(20) for j in range(i + 1, 20)]
    assert min(diffs) > 8, min(diffs)


@pytest.mark.parametrize(("w", "h"), [(64, 128), (520, 384), (1, 1), (7, 3), (3, 200)])
@pytest.mark.parametrize("paintings", [(), (ARTWORK,)])
def test_exact_size_and_dtype(w: int, h: int, paintings: tuple[Path, ...]) -> None:
    img = FallbackEngine(paintings).render(variation(7, w, h))
    assert img.shape == (h, w, 3) and img.dtype == np.uint8


@pytest.mark.parametrize("strength", [0.0, 1.0, 1.5, -1.0])
def test_any_strength_and_extreme_seeds_render(strength: float) -> None:
    engine = FallbackEngine((ARTWORK,))
    for seed in (0, 2**32 - 1):
        assert engine.render(variation(seed, strength=strength)).shape == (96, 96, 3)


def test_strength_scales_the_departure() -> None:
    base = FallbackEngine((ARTWORK,)).render(variation(1, strength=1e-6))
    engine = FallbackEngine((ARTWORK,))
    near = np.mean([mad(engine.render(variation(s, strength=0.1)), base) for s in range(8)])
    far = np.mean([mad(engine.render(variation(s, strength=0.9)), base) for s in range(8)])
    assert near * 2 < far, (near, far)


RED, BLUE = (200, 30, 30), (30, 30, 200)


def test_painting_is_chosen_by_index_modulo(tmp_path: Path) -> None:
    engine = FallbackEngine((solid(tmp_path / "red.png", RED), solid(tmp_path / "blue.png", BLUE)))
    for index, expected in ((0, RED), (1, BLUE), (3, BLUE), (4, RED)):
        img = engine.render(variation(5, strength=0.01, painting=index))
        mean = img.reshape(-1, 3).mean(axis=0)
        assert np.abs(mean - expected).max() < 25, (index, mean)


def test_without_painting_a_seeded_procedural_picture() -> None:
    engine = FallbackEngine()
    img = engine.render(variation(3))
    assert img.std() > 10  # a composition, not a flat field
    assert mad(img, engine.render(variation(4))) > 8
    base = procedural_base(3, 96, 96)
    assert base.shape == (96, 96, 3) and base.dtype == np.uint8


def test_unreadable_painting_falls_back_and_logs_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "painting.png"
    broken.write_bytes(b"this is not a png")
    engine = FallbackEngine((broken,))
    with caplog.at_level(logging.ERROR, logger="installation.engines.fallback"):
        images = [engine.render(variation(seed)) for seed in (1, 2, 1)]
    expected = FallbackEngine().render(variation(1))
    assert images[0].tobytes() == expected.tobytes()  # exactly the no-painting picture
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "painting.png" in errors[0].getMessage()


def test_missing_painting_is_used_once_it_appears(tmp_path: Path) -> None:
    path = tmp_path / "late.png"
    engine = FallbackEngine((path,))
    engine.render(variation(1, strength=0.01))
    solid(path, (20, 200, 20))
    img = engine.render(variation(1, strength=0.01))
    assert np.abs(img.reshape(-1, 3).mean(axis=0) - (20, 200, 20)).max() < 25


def test_each_painting_is_loaded_once_per_size(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []
    real = fallback.load_rgb

    def counting(path: Path, size: tuple[int, int], fit: str = "cover") -> np.ndarray:
        calls.append(size)
        return real(path, size, fit)

    monkeypatch.setattr(fallback, "load_rgb", counting)
    engine = FallbackEngine((ARTWORK,))
    for seed in range(3):
        engine.render(variation(seed, 64, 48))
    engine.render(variation(9, 32, 32))
    assert calls == [(64, 48), (32, 32)]


def test_an_internal_failure_still_gives_a_picture(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> np.ndarray:
        raise MemoryError("simulated")

    monkeypatch.setattr(fallback, "vary", broken)
    engine = FallbackEngine()
    with caplog.at_level(logging.ERROR, logger="installation.engines.fallback"):
        a, b = engine.render(variation(1, 30, 20)), engine.render(variation(1, 30, 20))
    assert a.shape == (20, 30, 3) and a.dtype == np.uint8 and a.tobytes() == b.tobytes()
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1


@pytest.mark.parametrize(
    ("w", "h", "name"), [(0, 10, "width"), (10, -1, "height"), (10, 10**6, "height")]
)
def test_invalid_size_is_a_clear_error(w: int, h: int, name: str) -> None:
    with pytest.raises(EngineError, match=name):
        FallbackEngine().render(variation(1, w, h))


def test_vary_keeps_the_picture_at_zero_strength() -> None:
    base = procedural_base(11, 64, 64)
    out = vary(base, 99, 0.0)
    assert mad(out, base) < 5  # only the brush texture, which is always there (~1.6)
    assert mad(vary(base, 99, 1.0), base) > mad(out, base)
