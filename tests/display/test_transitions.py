"""The crossfade and layout maths, without pygame."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from installation.display.transitions import (
    Fit,
    FrameTimes,
    alpha_byte,
    ease_in_out,
    fade_progress,
    fit_picture,
    percentile,
    pulse,
)


def test_ease_fixes_ends_and_middle() -> None:
    assert (ease_in_out(0.0), ease_in_out(0.5), ease_in_out(1.0)) == (0.0, 0.5, 1.0)
    assert ease_in_out(-3) == 0.0 and ease_in_out(7) == 1.0


@given(st.floats(0, 1), st.floats(0, 1))
def test_ease_is_monotonic(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert ease_in_out(lo) <= ease_in_out(hi)


def test_fade_progress_over_time() -> None:
    assert fade_progress(10.0, 2.0, 10.0) == 0.0
    assert fade_progress(10.0, 2.0, 11.0) == 0.5
    assert fade_progress(10.0, 2.0, 12.5) == 1.0
    assert 0 < fade_progress(10.0, 2.0, 10.4) < 0.2  # eased: slow start


def test_zero_duration_is_a_cut() -> None:
    assert fade_progress(10.0, 0.0, 10.0) == 1.0


def test_alpha_byte_clamps() -> None:
    assert [alpha_byte(p) for p in (-1, 0, 0.5, 1, 2)] == [0, 0, 128, 255, 255]


def test_pulse_breathes_between_bounds() -> None:
    assert pulse(0.0, 4.0, 0.4, 1.0) == pytest.approx(0.4)
    assert pulse(2.0, 4.0, 0.4, 1.0) == pytest.approx(1.0)
    assert pulse(4.0, 4.0, 0.4, 1.0) == pytest.approx(0.4)


def test_contain_letterboxes_a_square_on_a_wide_screen() -> None:
    assert fit_picture((512, 512), (1920, 1080), "contain") == Fit(
        (0, 0, 512, 512), (1080, 1080), (420, 0)
    )


def test_contain_pillarboxes_a_wide_picture_on_a_tall_screen() -> None:
    fit = fit_picture((200, 100), (100, 300), "contain")
    assert fit.size == (100, 50) and fit.pos == (0, 125)


def test_cover_crops_the_middle_and_fills_the_screen() -> None:
    fit = fit_picture((512, 512), (1920, 1080), "cover")
    assert fit.size == (1920, 1080) and fit.pos == (0, 0)
    assert fit.crop == (0, 112, 512, 288)  # 512 * 1080/1920 = 288 rows, centred


@given(st.integers(1, 4000), st.integers(1, 4000), st.integers(16, 4000), st.integers(16, 4000))
def test_fits_stay_inside_picture_and_screen(sw: int, sh: int, dw: int, dh: int) -> None:
    for mode in ("cover", "contain"):
        fit = fit_picture((sw, sh), (dw, dh), mode)
        x, y, w, h = fit.crop
        assert x >= 0 and y >= 0 and x + w <= sw and y + h <= sh and w >= 1 and h >= 1
        assert fit.pos[0] >= 0 and fit.pos[1] >= 0
        assert fit.pos[0] + fit.size[0] <= dw and fit.pos[1] + fit.size[1] <= dh


def test_unknown_fit_is_named() -> None:
    with pytest.raises(ValueError, match=r"'stretch'.*cover.*contain"):
        fit_picture((10, 10), (10, 10), "stretch")


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([], 50) == 0.0


def test_frame_times_window_and_longest_gap() -> None:
    times = FrameTimes(window=3)
    for t in (0.0, 0.5, 0.51, 0.52, 0.53):
        times.tick(t)
    summary = times.summary()
    assert summary["frames"] == 5
    assert summary["longest_gap_ms"] == 500.0  # kept after it left the window
    assert summary["frame_ms_p99"] == 10.0 and summary["fps"] == pytest.approx(100.0)


def test_a_clock_going_backwards_is_not_a_negative_gap() -> None:
    times = FrameTimes()
    times.tick(5.0)
    times.tick(4.0)
    assert times.summary()["longest_gap_ms"] == 0.0
