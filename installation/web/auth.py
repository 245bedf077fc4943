"""Who is asking: users from the users file, browser sessions with CSRF tokens, HTTP Basic,
and a rate limit on failed sign-ins. Plain Python (no web library): tested on its own.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from installation.web.users import DUMMY_HASH, User, UserError, load_users, users_path
from installation.web.users import verify_password as _verify

MAX_SESSIONS = 256
MAX_TRACKED = 4096  # sign-in failure records kept (oldest forgotten first)
FREE_FAILURES = 5  # wrong passwords allowed per name and per address before waiting
LOCK_S, LOCK_MAX_S = 2.0, 300.0  # then a wait that doubles with each failure, up to 5 min
CHECK_EVERY_S = 1.0  # the users file is looked at (mtime) at most this often
BASIC_MEMO_S = 300.0  # a checked Basic credential is trusted this long (scrypt is slow)


@dataclass
class Session:
    user: str
    csrf: str
    expires: float


class Directory:
    """The users file, re-read when it changes (`web user add` applies to a running show)."""

    def __init__(self, storage_dir: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = users_path(storage_dir)
        self.storage_dir = Path(storage_dir)
        self.clock = clock
        self._lock = threading.Lock()
        self._users: dict[str, User] = {}
        self._stamp: tuple[int, int] | None = None
        self._checked = -1e18
        self._memo: dict[bytes, tuple[str, float]] = {}
        self._key = secrets.token_bytes(32)
        self.error: str | None = None

    def users(self) -> dict[str, User]:
        now = self.clock()
        with self._lock:
            if now - self._checked >= CHECK_EVERY_S:
                self._checked = now
                self._reload()
            return self._users

    def _reload(self) -> None:
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None
        if stamp == self._stamp:
            return
        self._stamp, self._memo = stamp, {}
        try:
            self._users, self.error = load_users(self.storage_dir), None
        except UserError as e:
            self._users, self.error = {}, str(e)

    def get(self, name: str) -> User | None:
        return self.users().get(name)

    def verify(self, name: str, password: str) -> User | None:
        """The user when the password is right; costs one scrypt either way (no name probing).
        Blocking: call it off the event loop."""
        user = self.get(name)
        memo = hmac.new(self._key, f"{name}\0{password}".encode(), hashlib.sha256).digest()
        now = self.clock()
        with self._lock:
            hit = self._memo.get(memo)
        if user is not None and hit is not None and hit[0] == user.hash and hit[1] > now:
            return user
        ok = _verify(password, user.hash if user else DUMMY_HASH) and user is not None
        if not ok or user is None:
            return None
        with self._lock:
            if len(self._memo) > 64:
                self._memo.clear()
            self._memo[memo] = (user.hash, now + BASIC_MEMO_S)
        return user


class Sessions:
    """Browser sessions by random token (the cookie); each with its own CSRF token."""

    def __init__(self, lifetime_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.lifetime_s = lifetime_s
        self.clock = clock
        self._lock = threading.Lock()
        self._by_token: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_token)

    def new(self, user: str) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        session = Session(user, secrets.token_urlsafe(32), self.clock() + self.lifetime_s)
        with self._lock:
            self._by_token[token] = session
            while len(self._by_token) > MAX_SESSIONS:
                self._by_token.popitem(last=False)  # the oldest sign-in goes
        return token, session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        with self._lock:
            session = self._by_token.get(token)
            if session is not None and session.expires <= self.clock():
                del self._by_token[token]
                return None
            return session

    def end(self, token: str | None) -> None:
        with self._lock:
            self._by_token.pop(token or "", None)


class SignInLimit:
    """Failed sign-ins per name and per address: a few are free, then a doubling wait."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self.refused = 0

    def wait_s(self, *keys: str) -> float:
        """Seconds until these keys may try again (0: now)."""
        now = self.clock()
        with self._lock:
            waits = [self._failures.get(k, (0, now))[1] - now for k in keys]
        wait = max([0.0, *waits])
        if wait > 0:
            self.refused += 1
        return wait

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for k in keys:
                count = self._failures.pop(k, (0, now))[0] + 1
                extra = count - FREE_FAILURES
                wait = 0.0 if extra <= 0 else min(LOCK_MAX_S, LOCK_S * 2 ** (extra - 1))
                self._failures[k] = (count, now + wait)
                while len(self._failures) > MAX_TRACKED:
                    self._failures.popitem(last=False)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._failures.pop(k, None)


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """'Basic base64(name:password)' -> (name, password); None for anything else."""
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        text = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    name, sep, password = text.partition(":")
    return (name, password) if sep and name else None


def same_token(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a).encode(), str(b).encode())
