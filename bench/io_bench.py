"""Benchmark 6: the dice codec's throughput and OSC cue latency on loopback."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from bench.common import Result, pct
from installation.core.throws import DieEvent, DieState
from installation.dice.protocol import LineSplitter, decode, encode, encode_event

BAUD_LINES_PER_S = 115200 / 10 / 26  # 8N1 at 115200 baud, a 26-byte DIE line


def dice_traffic(lines: int) -> list[bytes]:
    """Typical wire traffic: dice rolling and landing, heartbeats in between."""
    out: list[bytes] = []
    t = 0
    while len(out) < lines:
        t += 37
        die = 1 + len(out) % 2
        kind = len(out) % 5
        if kind == 4:
            out.append(encode("HB", t))
        elif kind % 2:
            out.append(encode_event(DieEvent(die, DieState.LANDED, 1 + t % 6, t)))
        else:
            out.append(encode_event(DieEvent(die, DieState.ROLLING, 0, t)))
    return out[:lines]


def _best_rate(lines: int, repeats: int, work: Any) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - t0)
    return lines / best


def bench_codec(result: Result, lines: int, repeats: int) -> None:
    traffic = dice_traffic(lines)
    bare = [line.rstrip(b"\n") for line in traffic]
    stream = b"".join(traffic)
    chunks = [stream[i : i + 64] for i in range(0, len(stream), 64)]  # serial reads

    def decode_only() -> None:
        for line in bare:
            decode(line, 2)

    def split_and_decode() -> None:
        splitter = LineSplitter()
        for chunk in chunks:
            for item in splitter.feed(chunk):
                if isinstance(item, bytes):
                    decode(item, 2)

    rate = _best_rate(lines, repeats, decode_only)
    result.add("decode(): lines per second", rate, "lines/s")
    both = _best_rate(lines, repeats, split_and_decode)
    result.add("LineSplitter + decode(): lines per second", both, "lines/s")
    result.add("headroom over a saturated 115200-baud link", both / BAUD_LINES_PER_S, "x",
               goal=10.0, better="higher")  # fmt: skip


class _Receiver:
    """A loopback UDP socket that timestamps every datagram as it arrives."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(2.0)
        self.port = self.sock.getsockname()[1]
        self.arrived = threading.Semaphore(0)
        self.times: list[float] = []

    def run(self) -> None:
        while True:
            try:
                data = self.sock.recv(65536)
            except (TimeoutError, OSError):
                return
            self.times.append(time.perf_counter())
            self.arrived.release()
            if data == b"stop":
                return


def bench_osc(result: Result, count: int) -> None:
    from installation.osc.cues import CueSender
    from installation.osc.targets import OscTarget

    rx = _Receiver()
    threading.Thread(target=rx.run, daemon=True).start()
    sender = CueSender([OscTarget(name="bench", host="127.0.0.1", port=rx.port)])
    sender.start()
    calls, cue_lat, raw_lat = [], [], []
    plain = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i in range(count):
            t0 = time.perf_counter()
            sender.cue("shown", faces=(3, 5), seed=1234 + i, number=17)
            calls.append((time.perf_counter() - t0) * 1e6)
            if rx.arrived.acquire(timeout=2):
                cue_lat.append((rx.times[-1] - t0) * 1e6)
            t0 = time.perf_counter()
            plain.sendto(b"/installation/shown\x00,iii\x00" + bytes(12), ("127.0.0.1", rx.port))
            if rx.arrived.acquire(timeout=2):
                raw_lat.append((rx.times[-1] - t0) * 1e6)
    finally:
        sender.stop()
        plain.sendto(b"stop", ("127.0.0.1", rx.port))
        plain.close()
    result.add("cue() call (what the frame loop pays) p50", pct(calls, 50), "µs")
    result.add("cue() call p99", pct(calls, 99), "µs")
    result.add("cue() -> datagram received p50", pct(cue_lat, 50), "µs")
    result.add("cue() -> datagram received p99", pct(cue_lat, 99), "µs")
    result.add("bare sendto -> received p50 (same socket path)", pct(raw_lat, 50), "µs")
    result.add("bare sendto -> received p99", pct(raw_lat, 99), "µs")
    if len(cue_lat) < count:
        result.notes.append(f"{count - len(cue_lat)} of {count} cues never arrived")


def bench_io(lines: int, repeats: int, cues: int) -> Result:
    result = Result(
        "6",
        "Dice codec and OSC cues",
        "Codec: installation.dice.protocol on typical traffic (DIE ROLLING/LANDED, HB), "
        "in memory, no port. OSC: CueSender (immediate mode) to a loopback UDP socket; "
        "latency from cue() to the datagram's arrival in a receiving thread, one cue at "
        "a time; a bare socket.sendto timed alongside.",
    )
    bench_codec(result, lines, repeats)
    bench_osc(result, cues)
    result.samples = lines * repeats + cues * 2
    return result
