"""What every route needs: the show, the inbox, the status, the users, and who is asking.

Routes never touch the running show's objects: they read `snapshot()` (thread-safe) and
act by putting events into the inbox. Errors are answered as JSON on /api/ and /metrics,
as a page elsewhere; a role that may not is 403, no credentials 401 (or the sign-in page).
"""

from __future__ import annotations

import json
import logging
import queue
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from installation.show.schema import Show
from installation.show.web_config import may
from installation.web.auth import Directory, Sessions, SignInLimit, parse_basic, same_token
from installation.web.users import User

log = logging.getLogger("installation.web")

COOKIE = "console_session"
MAX_BODY = 16 * 1024
SIMPLE_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


class Refused(Exception):
    """A request answered early: bad input (4xx) or no permission; `response` says how."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


class LogTail(logging.Handler):
    """The last lines of the app's log, for the log page."""

    def __init__(self, size: int = 500) -> None:
        super().__init__(logging.INFO)
        self.lines: deque[str] = deque(maxlen=size)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # a log line must never break the caller
            self.handleError(record)


@dataclass
class Who:
    user: User
    csrf: str | None  # the session's token; None for HTTP Basic


@dataclass
class Ctx:
    show: Show
    inbox: queue.Queue[object]
    snapshot: Callable[[], dict[str, Any]]
    directory: Directory
    sessions: Sessions
    limit: SignInLimit
    tail: LogTail
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def storage(self) -> Path:
        return self.show.storage_dir

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def log_change(self, who: Who, what: str) -> None:
        log.info("web: %s (%s) %s", who.user.name, who.user.role, what)
        self.count("actions")

    def act(self, who: Who, event: object, what: str) -> None:
        """Every command goes through here: logged with the user's name, then queued."""
        self.log_change(who, what)
        self.inbox.put(event)

    def api(self, request: Request) -> bool:
        return request.url.path.startswith(("/api/", "/metrics"))

    async def who(self, request: Request, role: str) -> Who:
        """The signed-in user (session cookie, or HTTP Basic on /api/ and /metrics) with at
        least `role`. POSTs need the session's CSRF token (or Basic, with no form body)."""
        who = await self._identify(request)
        if who is None:
            if self.api(request):
                raise Refused(
                    401,
                    "sign in: HTTP Basic with a console user",
                    {"WWW-Authenticate": 'Basic realm="installation", charset="UTF-8"'},
                )
            raise Refused(401, "sign in first")
        if not may(who.user.role, role):
            raise Refused(403, f"{who.user.name} is a {who.user.role}; this needs {role}")
        if request.method == "POST":
            self._check_post(request, who)
        return who

    async def _identify(self, request: Request) -> Who | None:
        basic = parse_basic(request.headers.get("authorization"))
        if basic is not None and self.api(request):
            return Who(await self.sign_in(request, *basic), None)
        session = self.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            return None
        user = self.directory.get(session.user)
        if user is None:  # removed since: the session ends
            self.sessions.end(request.cookies.get(COOKIE))
            return None
        return Who(user, session.csrf)

    async def sign_in(self, request: Request, name: str, password: str) -> User:
        """Check a password, rate-limited per name and per address; raises Refused."""
        keys = (f"name:{name[:64]}", f"addr:{request.client.host if request.client else '?'}")
        wait = self.limit.wait_s(*keys)
        if wait > 0:
            self.count("signin_refused")
            raise Refused(
                429,
                f"too many wrong passwords; try again in {wait:.0f} s",
                {"Retry-After": str(int(wait) + 1)},
            )
        user = await run_in_threadpool(self.directory.verify, name, password)
        if user is None:
            self.limit.failed(*keys)
            self.count("signin_failed")
            log.warning("web: failed sign-in for %r from %s", name[:64], keys[1][5:])
            if self.api(request):
                raise Refused(
                    401,
                    "wrong user name or password",
                    {"WWW-Authenticate": 'Basic realm="installation", charset="UTF-8"'},
                )
            raise Refused(401, "wrong user name or password")
        self.limit.succeeded(*keys)
        return user

    def _check_post(self, request: Request, who: Who) -> None:
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
            raise Refused(403, f"cross-site request from {origin} refused")
        if who.csrf is None:  # HTTP Basic: a browser form cannot send these content types
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind in SIMPLE_TYPES:
                raise Refused(415, f"content type {kind} is not accepted here; send JSON")
            return
        form = getattr(request.state, "form", {})
        sent = request.headers.get("x-csrf-token") or form.get("csrf")
        if not same_token(sent, who.csrf):
            raise Refused(403, "missing or wrong CSRF token; reload the page and try again")


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The body, refused (413) past `limit` bytes, however it is sent."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        raise Refused(413, f"request body over {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Refused(413, f"request body over {limit} bytes")
    return body


async def read_form(request: Request) -> dict[str, str]:
    """A url-encoded form as {name: last value} (kept in request.state for the CSRF check)."""
    from urllib.parse import parse_qsl

    form: dict[str, str] = {}
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method == "POST" and kind == "application/x-www-form-urlencoded":
        try:
            text = (await read_body(request)).decode("utf-8")
            form = dict(parse_qsl(text, keep_blank_values=True, max_num_fields=50))
        except (UnicodeDecodeError, ValueError) as e:
            raise Refused(400, f"the form is not readable ({e})") from e
    request.state.form = form
    return form


async def read_json(request: Request) -> Any:
    body = await read_body(request)
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as e:
        raise Refused(400, f"the body is not JSON ({e})") from e


def refusal(ctx: Ctx, request: Request, r: Refused, page: Callable[..., Response]) -> Response:
    """How a refusal is answered: JSON on the API, the sign-in page or an error page else."""
    ctx.count(f"http_{r.status}")
    if ctx.api(request):
        return JSONResponse({"error": r.message}, r.status, headers=r.headers)
    if r.status == 401 and request.method == "GET":
        return RedirectResponse(f"/signin?next={quote(request.url.path)}", 303)
    return page(request, "error.html", {"status": r.status, "message": r.message}, r.status)
