"""The parent's end of the worker pipe, read and written by two daemon threads.

The frame thread must never wait on the child. A multiprocessing Connection reads a
whole message with blocking reads once its first bytes are there, and a send blocks
while the socket buffer is full. So a child stopped half-way through a message (a
SIGSTOP, a debugger, a GPU driver freezing the process mid-write) or a child that has
stopped reading would hold the frame for as long as it stays stopped: the soak saw a
15 s frame stall that way. Here a reader thread does the blocking reads and a writer
thread the blocking writes; the frame thread only moves messages in and out of queues.
With a `wake` event the reader sets it for each message but a heartbeat, so the frame
loop's pacing ends its wait and a finished image is taken at once, not a frame later.
A message is sent at once from send() when nothing is queued before it and the socket
takes it without waiting (MSG_DONTWAIT); what the socket did not take, the writer sends
next. So a throw's job reaches the child without waiting for the writer thread to get
the GIL (it waited up to a few ms while the frame thread drew), and order is kept.

close() shuts the socket down, which wakes both threads at once (the reader sees end
of file, the writer a broken pipe), whatever the child does; each thread then closes
its own descriptor, so no descriptor number is closed twice or reused under a thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import socket
import struct
import threading
from dataclasses import dataclass
from multiprocessing import BufferTooShort
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import Any

import numpy as np

from installation.worker.trace import stamp

log = logging.getLogger("installation.worker.client")

MAX_INBOX = 64  # messages read ahead of the frame; the reader waits (the child with it)
MAX_PIXELS = 1 << 28  # 256 MiB: a larger result header is a broken child, not an image
MAX_DIRECT = 1 << 20  # larger messages always go through the writer thread


@dataclass(frozen=True)
class Pixels:
    """A result's pixels as the reader thread received them, and when (worker/trace.py)."""

    data: bytearray
    header_read: float  # the header was in (monotonic)
    pixels_read: float  # and the pixels after it


Message = tuple[tuple[Any, ...], Pixels | None]


class ChildPipe:
    """Messages from the child come in through take(), messages to it go out through send();
    neither ever blocks. `lost` says why the pipe ended (the child closed it, crashed or
    sent garbage), once every message before that has been taken."""

    def __init__(
        self, conn: Connection, name: str = "worker", wake: threading.Event | None = None
    ) -> None:
        fd = conn.fileno()
        self._wake = wake  # set for every message but a heartbeat (the frame loop's pacing)
        self._out_conn = Connection(os.dup(fd))
        self._ctl = socket.socket(fileno=os.dup(fd))  # never read: send() tries it, close()
        self._inbox: queue.Queue[Message] = queue.Queue(MAX_INBOX)
        self._outbox: queue.SimpleQueue[tuple[Any, ...] | bytes | None] = queue.SimpleQueue()
        self._sending = threading.Lock()  # held while writing the socket: send() or the writer
        self._count = threading.Lock()  # guards _queued; never held while writing
        self._queued = 0  # messages queued and not yet sent whole (the writer counts down)
        self._lost: str | None = None
        self._closed = threading.Event()
        self._reader = threading.Thread(
            target=self._read, args=(conn,), name=f"{name}-pipe-in", daemon=True
        )
        self._writer = threading.Thread(target=self._write, name=f"{name}-pipe-out", daemon=True)
        self._reader.start()
        self._writer.start()

    def __repr__(self) -> str:
        state = "closed" if self._closed.is_set() else self._lost or "open"
        return f"<ChildPipe {state} inbox={self._inbox.qsize()}>"

    # -- the frame thread's side ------------------------------------------------------
    def send(self, message: tuple[Any, ...]) -> None:
        """Send a message to the child now if the socket takes it without waiting, else
        queue it (or its rest) for the writer thread. Never blocks."""
        if self._closed.is_set():
            return
        rest: tuple[Any, ...] | bytes = message
        if self._sending.acquire(blocking=False):  # the writer is not writing
            try:
                with self._count:
                    idle = self._queued == 0  # nothing queued before it: order is kept
                if idle:
                    rest = self._send_now(message)
                    if not rest:
                        return
                self._queue(rest)
            finally:
                self._sending.release()
            return
        self._queue(rest)  # the writer may be stuck on a full socket: never wait for it

    def _queue(self, item: tuple[Any, ...] | bytes) -> None:
        with self._count:
            self._queued += 1
        self._outbox.put(item)

    def _send_now(self, message: tuple[Any, ...]) -> tuple[Any, ...] | bytes:
        """What the socket did not take at once: b"" (all sent), the framed rest, or the
        message itself (nothing sent). Connection's framing: a 4-byte length, the pickle."""
        data = bytes(ForkingPickler.dumps(_stamped(message)))
        if len(data) > MAX_DIRECT:
            return message
        frame = struct.pack("!i", len(data)) + data
        try:
            sent = self._ctl.send(frame, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return message
        except OSError as e:  # the reader reports the loss
            log.debug("worker pipe: send failed: %s", e)
            return b""
        return frame[sent:]

    def take(self, limit: int) -> tuple[list[Message], str | None]:
        """Up to `limit` messages in arrival order, and why the pipe was lost (None while
        it works, or while messages sent before the loss are still waiting)."""
        lost = self._lost  # read first: whatever came before the loss is queued by now
        out: list[Message] = []
        while len(out) < limit:
            try:
                out.append(self._inbox.get_nowait())
            except queue.Empty:
                return out, lost
        return out, None

    def close(self) -> None:
        """Shut the socket down: both threads end at once and close their descriptors."""
        if self._closed.is_set():
            return
        self._closed.set()
        with contextlib.suppress(OSError):
            self._ctl.shutdown(socket.SHUT_RDWR)
        self._ctl.close()
        self._outbox.put(None)

    def join(self, timeout_s: float) -> bool:
        """Wait for both threads to end (tests, shutdown); True when they did."""
        for thread in (self._reader, self._writer):
            thread.join(timeout_s)
        return not (self._reader.is_alive() or self._writer.is_alive())

    # -- the threads ------------------------------------------------------------------
    def _read(self, conn: Connection) -> None:
        try:
            while True:
                msg = conn.recv()
                payload = None
                if isinstance(msg, tuple) and msg and msg[0] == "result":
                    header_read = stamp()
                    payload = Pixels(_recv_pixels(conn, msg[3]), header_read, stamp())
                if not isinstance(msg, tuple) or not msg:
                    raise ValueError(f"not a worker message: {msg!r:.80}")
                while not self._closed.is_set():
                    try:
                        self._inbox.put((msg, payload), timeout=0.2)
                        if self._wake is not None and msg[0] != "beat":
                            self._wake.set()  # after the put: the woken poll finds it
                        break
                    except queue.Full:
                        continue
                if self._closed.is_set():
                    return
        except (EOFError, OSError, BufferTooShort) as e:
            self._lost = type(e).__name__
        except Exception as e:  # an unpicklable or malformed message: the child is broken
            self._lost = f"{type(e).__name__}: {e}"
        finally:
            conn.close()

    def _write(self) -> None:
        conn = self._out_conn
        try:
            while (message := self._outbox.get()) is not None:
                with self._sending:
                    if isinstance(message, bytes):  # the rest of a message send() began
                        _write_all(conn.fileno(), message)
                    else:
                        conn.send(_stamped(message))
                    with self._count:
                        self._queued -= 1
        except (OSError, ValueError) as e:
            if not self._closed.is_set():
                log.debug("worker pipe: send failed: %s", e)  # the reader reports the loss
        finally:
            conn.close()


def _stamped(message: tuple[Any, ...]) -> tuple[Any, ...]:
    """A render job carries when it was sent; the child sends it back (worker/trace.py)."""
    return (*message, stamp()) if message and message[0] == "render" else message


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _recv_pixels(conn: Connection, shape: tuple[int, ...]) -> bytearray:
    """The pixels following a result header, received straight into a writable buffer."""
    size = int(np.prod(shape))
    if not 0 < size <= MAX_PIXELS:
        raise ValueError(f"result of shape {shape!r} is not an image this worker sends")
    buf = bytearray(size)
    conn.recv_bytes_into(buf)
    return buf
