"""A painting of a die, made from nothing but code: the demo show's artwork.

Two stages, like a painter works: an underpainting (a lit ivory die in 3/4 view on a
cloth-covered table against a dark warm wall, with a cast shadow) rendered with Pillow
polygons; then brush strokes from coarse to fine, each placed only where the canvas
still differs from the underpainting, oriented along the forms, with a height map for
impasto lit from the upper left, and a canvas weave. No third-party images.

    python -m installation.curate.painter OUT.png [--size 768] [--seed 7]
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from installation.engines.images import canvas_weave, placeholder

Vec = tuple[float, float, float]
Point = tuple[float, float]

WALL_LIGHT = (0.56, 0.37, 0.18)
WALL_DARK = (0.13, 0.08, 0.05)
CLOTH = (0.52, 0.17, 0.08)
IVORY = (0.95, 0.89, 0.76)
PIP = (0.11, 0.07, 0.05)
RED_PIP = (0.72, 0.12, 0.07)
LIGHT: Vec = (-0.55, 0.7, 0.45)  # camera space, y up: from the upper left, in front
PIPS = {
    1: [(0.5, 0.5)],
    3: [(0.25, 0.25), (0.5, 0.5), (0.75, 0.75)],
    5: [(0.25, 0.25), (0.75, 0.25), (0.5, 0.5), (0.25, 0.75), (0.75, 0.75)],
}


def paint_die(size: tuple[int, int] = (768, 768), seed: int = 7) -> np.ndarray:
    """HxWx3 uint8: an oil-sketch-like painting of a die, deterministic for a seed."""
    w, h = size
    rng = np.random.default_rng(seed)
    reference = underpainting(w, h)
    canvas, height = paint_strokes(reference, rng)
    img = np.asarray(canvas, dtype=np.float32) / 255
    img *= impasto_light(height)[..., None]
    img *= canvas_weave(w, h, rng)[..., None]
    img *= np.array([1.0, 0.98, 0.92], np.float32)  # an old warm varnish
    return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)


# -- the underpainting ------------------------------------------------------------------
def underpainting(w: int, h: int) -> Image.Image:
    """The motif as smooth shapes and light: what the brush strokes will copy."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = xs / w, ys / h
    glow = np.clip(1 - np.hypot(u - 0.3, v - 0.22) / 0.75, 0, 1) ** 1.6
    img = _mix(WALL_DARK, WALL_LIGHT, glow)
    table_edge = 0.56
    on_table = (v > table_edge)[..., None]
    cloth_light = np.clip(1 - np.hypot(u - 0.45, (v - 0.62) * 1.6) / 0.8, 0, 1) ** 1.2
    cloth = _mix(tuple(c * 0.35 for c in CLOTH), CLOTH, cloth_light)
    img = np.where(on_table, cloth, img)
    lip = np.clip(1 - np.abs(v - table_edge) * h / 5, 0, 1)[..., None]  # lit table edge
    img += lip * np.array([0.25, 0.14, 0.06], np.float32)
    base = Image.fromarray(np.clip(img * 255, 0, 255).astype(np.uint8), "RGB")
    cube = Cube(center=(0.47 * w, 0.6 * h), scale=0.17 * min(w, h))
    _cast_shadow(base, cube, w)
    cube.draw(base)
    return base


def _mix(a: Sequence[float], b: Sequence[float], t: np.ndarray) -> np.ndarray:
    a_ = np.array(a, np.float32)
    out: np.ndarray = a_ + (np.array(b, np.float32) - a_) * t[..., None]
    return out


class Cube:
    """A unit die (half-size 1) turned to a 3/4 view, projected with a little perspective."""

    yaw, pitch, distance = math.radians(37), math.radians(27), 9.0
    faces: ClassVar[dict[str, int]] = {"top": 5, "left": 3, "right": 1}

    def __init__(self, center: Point, scale: float) -> None:
        self.center, self.scale = center, scale

    def to_camera(self, p: Vec) -> Vec:
        x, y, z = p
        cy, sy = math.cos(self.yaw), math.sin(self.yaw)
        x, z = x * cy + z * sy, -x * sy + z * cy
        cp, sp = math.cos(self.pitch), math.sin(self.pitch)
        y, z = y * cp - z * sp, y * sp + z * cp
        return (x, y, z)

    def project(self, p: Vec) -> Point:
        x, y, z = self.to_camera(p)
        k = self.distance / (self.distance - z)
        return (self.center[0] + x * k * self.scale, self.center[1] - y * k * self.scale)

    def face_frames(self) -> dict[str, tuple[Vec, Vec, Vec]]:
        """Centre and the two in-plane axes of each visible face (u right/down on the face)."""
        return {
            "top": ((0, 1, 0), (1, 0, 0), (0, 0, 1)),
            "left": ((-1, 0, 0), (0, 0, 1), (0, -1, 0)),
            "right": ((0, 0, 1), (1, 0, 0), (0, -1, 0)),
        }

    def face_point(self, face: str, uu: float, vv: float) -> Point:
        c, a, b = self.face_frames()[face]
        s, t = 2 * uu - 1, 2 * vv - 1
        return self.project(tuple(c[i] + s * a[i] + t * b[i] for i in range(3)))  # type: ignore[arg-type]

    def outline(self, face: str, inset: float = 0.0, n: int = 64) -> list[Point]:
        """A rounded square (superellipse) on the face: dice have soft edges."""
        pts = []
        for i in range(n):
            t = 2 * math.pi * i / n
            c, s = math.cos(t), math.sin(t)
            r = 0.5 - inset
            uu = 0.5 + r * math.copysign(abs(c) ** (2 / 7), c)
            vv = 0.5 + r * math.copysign(abs(s) ** (2 / 7), s)
            pts.append(self.face_point(face, uu, vv))
        return pts

    def brightness(self, face: str) -> float:
        n = self.to_camera(self.face_frames()[face][0])
        length = math.sqrt(sum(c * c for c in LIGHT))
        lambert = max(0.0, sum(n[i] * LIGHT[i] for i in range(3)) / length)
        return 0.38 + 0.66 * lambert

    def draw(self, img: Image.Image) -> None:
        draw = ImageDraw.Draw(img)
        hull = _convex_hull([p for f in self.faces for p in self.outline(f, -0.01)])
        draw.polygon(hull, fill=_rgb(IVORY, 0.62))
        for face in self.faces:  # the rounded edge catches a little more light than the face
            draw.polygon(self.outline(face, 0.0), fill=_rgb(self.face_colour(face), 1.1))
            _shade(img, self.outline(face, 0.045), self.face_colour(face))
        for face, value in self.faces.items():
            for uu, vv in PIPS[value]:
                self._pip(draw, face, uu, vv, red=value == 1)

    def face_colour(self, face: str) -> tuple[float, float, float]:
        """Ivory lit by the lamp, plus warm light bounced up from the red cloth."""
        k = self.brightness(face)
        bounce = 0.16 if face != "top" else 0.0
        return tuple(  # type: ignore[return-value]
            IVORY[i] * k + bounce * CLOTH[i] for i in range(3)
        )

    def _pip(self, draw: ImageDraw.ImageDraw, face: str, uu: float, vv: float, red: bool) -> None:
        r = 0.17 if red else 0.085
        colour = RED_PIP if red else PIP
        ring = [
            self.face_point(face, uu + r * math.cos(t), vv + r * math.sin(t))
            for t in np.linspace(0, 2 * math.pi, 40, endpoint=False)
        ]
        draw.polygon(ring, fill=_rgb(colour, self.brightness(face) * 0.9 + 0.1))


def _cast_shadow(img: Image.Image, cube: Cube, w: int) -> None:
    """The die's shadow on the cloth, thrown away from the light and softened."""
    base = [(x, -1.0, z) for x in (-1.0, 1.0) for z in (-1.0, 1.0)]
    thrown = [(x + 2.2, y, z + 0.6) for x, y, z in base]
    pts = _convex_hull([cube.project(p) for p in base + thrown])
    mask = Image.new("L", img.size, 0)
    ImageDraw.Draw(mask).polygon(pts, fill=200)
    mask = mask.filter(ImageFilter.GaussianBlur(w / 60))
    contact = Image.new("L", img.size, 0)
    ImageDraw.Draw(contact).polygon(_convex_hull([cube.project(p) for p in base]), fill=255)
    mask = ImageChops.lighter(mask, contact.filter(ImageFilter.GaussianBlur(w / 150)))
    dark = Image.new("RGB", img.size, _rgb(CLOTH, 0.22))
    img.paste(Image.composite(dark, img, mask))


def _shade(img: Image.Image, pts: list[Point], colour: Sequence[float]) -> None:
    """Fill a polygon with `colour`, brighter towards the light (upper left) and darker away."""
    w, h = img.size
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
    gx = (np.arange(w, dtype=np.float32) - x0) / max(1.0, x1 - x0)
    gy = (np.arange(h, dtype=np.float32) - y0) / max(1.0, y1 - y0)
    ramp = 1.12 - 0.22 * np.clip(0.55 * gx[None, :] + 0.45 * gy[:, None], 0, 1)
    fill = np.clip(np.array(colour, np.float32) * ramp[..., None] * 255, 0, 255)
    mask = Image.new("L", img.size, 0)
    ImageDraw.Draw(mask).polygon(pts, fill=255)
    img.paste(Image.fromarray(fill.astype(np.uint8), "RGB"), (0, 0), mask)


def _convex_hull(points: list[Point]) -> list[Point]:
    """Monotone chain convex hull, counter-clockwise."""
    pts = sorted(set(points))

    def half(seq: list[Point]) -> list[Point]:
        out: list[Point] = []
        for p in seq:
            while len(out) >= 2 and _cross(out[-2], out[-1], p) <= 0:
                out.pop()
            out.append(p)
        return out[:-1]

    return half(pts) + half(pts[::-1])


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _rgb(colour: Sequence[float], k: float = 1.0) -> tuple[int, int, int]:
    r, g, b = (max(0, min(255, round(c * k * 255))) for c in colour)
    return (r, g, b)


# -- brush strokes ------------------------------------------------------------------------
def paint_strokes(
    reference: Image.Image, rng: np.random.Generator
) -> tuple[Image.Image, np.ndarray]:
    """Strokes from coarse to fine where the canvas still differs from the reference.

    Returns the painted canvas and an impasto height map (float32, 0..1).
    """
    w, h = reference.size
    unit = min(w, h) / 768
    canvas = Image.new("RGB", (w, h), _rgb((0.42, 0.27, 0.15)))  # a toned ground
    height = Image.new("L", (w, h), 0)
    for radius, threshold in ((14, 0.0), (7, 0.05), (3.5, 0.06), (1.8, 0.07)):
        r = max(1.0, radius * unit)
        blurred = reference.filter(ImageFilter.GaussianBlur(r / 2))
        _layer(canvas, height, blurred, r, threshold, rng)
    hmap = np.asarray(height.filter(ImageFilter.GaussianBlur(0.8 * unit)), np.float32) / 255
    return canvas, hmap


def _layer(
    canvas: Image.Image,
    height: Image.Image,
    ref: Image.Image,
    r: float,
    threshold: float,
    rng: np.random.Generator,
) -> None:
    """One pass of strokes of width ~2r, in random order, gated by the local error."""
    w, h = canvas.size
    target = np.asarray(ref, np.float32) / 255
    error = np.abs(np.asarray(canvas, np.float32) / 255 - target).mean(axis=2)
    lum = target @ np.array([0.3, 0.59, 0.11], np.float32)
    gy, gx = (np.asarray(g, np.float32) for g in np.gradient(lum))
    step = max(1, int(r * 1.2))
    ys, xs = np.mgrid[step // 2 : h : step, step // 2 : w : step]
    jitter = rng.uniform(-0.5, 0.5, (2, *ys.shape)) * step
    ys = np.clip(ys + jitter[0], 0, h - 1).astype(int).ravel()
    xs = np.clip(xs + jitter[1], 0, w - 1).astype(int).ravel()
    keep = error[ys, xs] > threshold
    ys, xs = ys[keep], xs[keep]
    order = rng.permutation(len(ys))
    cdraw, hdraw = ImageDraw.Draw(canvas), ImageDraw.Draw(height)
    for i in order:
        y, x = ys[i], xs[i]
        angle = math.atan2(gx[y, x], -gy[y, x])  # along the edge, across the gradient
        if math.hypot(gx[y, x], gy[y, x]) < 0.004:
            angle = 0.35 + rng.normal(0, 0.5)  # flat areas: loose diagonal hatching
        angle += rng.normal(0, 0.15)
        colour = target[y, x] * rng.uniform(0.94, 1.06) + rng.normal(0, 0.01, 3)
        _stroke(cdraw, hdraw, (x, y), angle, r, _rgb(colour), rng)


def _stroke(
    cdraw: ImageDraw.ImageDraw,
    hdraw: ImageDraw.ImageDraw,
    at: Point,
    angle: float,
    r: float,
    colour: tuple[int, int, int],
    rng: np.random.Generator,
) -> None:
    """A straight dab of paint with round ends, plus bristle ridges in the height map."""
    length = r * rng.uniform(1.5, 3.5)
    dx, dy = math.cos(angle) * length / 2, math.sin(angle) * length / 2
    a, b = (at[0] - dx, at[1] - dy), (at[0] + dx, at[1] + dy)
    width = max(1, round(2 * r))
    cdraw.line([a, b], fill=colour, width=width, joint="curve")
    for end in (a, b):
        cdraw.ellipse([end[0] - r, end[1] - r, end[0] + r, end[1] + r], fill=colour)
    nx, ny = -math.sin(angle), math.cos(angle)
    bristles = max(2, min(6, round(r)))
    for k in range(bristles):
        off = (k + 0.5) / bristles * 2 * r - r
        level = int(rng.integers(60, 256))
        hdraw.line(
            [(a[0] + nx * off, a[1] + ny * off), (b[0] + nx * off, b[1] + ny * off)],
            fill=level,
            width=max(1, round(2 * r / bristles)),
        )


def impasto_light(height: np.ndarray) -> np.ndarray:
    """Brightness factor from the paint relief lit from the upper left."""
    gy, gx = np.gradient(height)
    shade = 1 + 1.3 * (-gx * 0.6 - gy * 0.8)
    out: np.ndarray = np.clip(shade, 0.8, 1.2).astype(np.float32)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m installation.curate.painter",
        description="Paint the demo die (or a placeholder) to a PNG file.",
    )
    parser.add_argument("out", type=Path, help="PNG file to write")
    parser.add_argument("--size", type=int, default=768, help="width and height in pixels")
    parser.add_argument("--seed", type=int, default=7, help="brush-stroke seed")
    parser.add_argument("--placeholder", metavar="TEXT", help="write a placeholder instead")
    args = parser.parse_args(argv)
    if not 64 <= args.size <= 4096:
        parser.error(f"--size must be 64..4096, got {args.size}")
    from installation.storage.png import save_png

    size = (args.size, args.size)
    if args.placeholder is not None:
        image = placeholder(size, args.placeholder)
    else:
        image = paint_die(size, args.seed)
    save_png(image, args.out, {"Software": "installation painter", "Seed": str(args.seed)})
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
