"""The console as an input edge: a uvicorn server on its own thread and event loop.

It reads the status through the thread-safe `snapshot()` and acts only by putting events
into the inbox, so a slow phone, a flood of requests or a crash in a page never touches
the frame loop (only the GIL is shared; bench/web_bench.py measures what that costs).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import socket
import threading
from collections.abc import Callable
from typing import Any

from installation.show.schema import Show
from installation.show.web_config import parse_listen
from installation.web.auth import Directory, Sessions, SignInLimit

log = logging.getLogger("installation.web")

MAX_CONNECTIONS = 64  # beyond this uvicorn answers 503 at once


class WebConsole:
    """Start, stop, status: the InputEdge contract (app/contracts.py)."""

    def __init__(
        self,
        listen: str,
        show: Show,
        inbox: queue.Queue[object],
        snapshot: Callable[[], dict[str, Any]],
    ) -> None:
        from installation.web.context import LogTail

        self.host, self.port = parse_listen(listen)
        self.show = show
        self.inbox = inbox
        self.snapshot = snapshot
        self.tail = LogTail()
        self.address: tuple[str, int] | None = None
        self.error: str | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self.ctx: Any = None

    def __repr__(self) -> str:
        return f"<WebConsole {self.address or (self.host, self.port)}>"

    def start(self) -> None:
        """Bind now (a taken port fails the start), then serve from a daemon thread."""
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        self._sock, self.address = sock, sock.getsockname()[:2]
        config = uvicorn.Config(
            self.build(),
            log_level="warning",
            access_log=False,
            lifespan="off",
            http="h11",
            loop="asyncio",
            limit_concurrency=MAX_CONNECTIONS,
            timeout_keep_alive=5,
            timeout_graceful_shutdown=2,
            server_header=False,
            h11_max_incomplete_event_size=16 * 1024,
        )
        self._server = uvicorn.Server(config)
        logging.getLogger().addHandler(self.tail)
        self._thread = threading.Thread(target=self._serve, name="web-console", daemon=True)
        self._thread.start()
        log.info("gallery console on http://%s:%d/", *self.address)

    def _serve(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            assert self._stopping is not None
            await self._server.serve(sockets=[self._sock])

        try:
            asyncio.run(main())
        except Exception as e:  # the console is lost, never the show
            self.error = f"{type(e).__name__}: {e}"
            log.exception("gallery console stopped")

    def stop(self) -> None:
        logging.getLogger().removeHandler(self.tail)
        if self._server is not None:
            self._server.should_exit = True
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def status(self) -> dict[str, Any]:
        ctx = self.ctx
        return {
            "listen": f"{self.address[0]}:{self.address[1]}" if self.address else None,
            "running": self._thread is not None and self._thread.is_alive(),
            "sessions": len(ctx.sessions) if ctx else 0,
            "counts": dict(ctx.counts) if ctx else {},
            "users_file_error": ctx.directory.error if ctx else None,
            "error": self.error,
        }

    def build(self) -> Any:
        """The Starlette application: pages, archive, API, static files."""
        from starlette.applications import Starlette
        from starlette.exceptions import HTTPException
        from starlette.requests import Request
        from starlette.responses import JSONResponse, PlainTextResponse, Response
        from starlette.routing import Mount
        from starlette.staticfiles import StaticFiles

        from installation.web import api, archive_pages, pages
        from installation.web.archive_view import ArchiveView
        from installation.web.context import Ctx
        from installation.web.routing import HERE

        hours = self.show.web.session_hours
        self.ctx = ctx = Ctx(
            self.show,
            self.inbox,
            self.snapshot,
            Directory(self.show.storage_dir),
            Sessions(hours * 3600),
            SignInLimit(),
            self.tail,
        )
        self._stopping = asyncio.Event()
        archive = ArchiveView(self.show)
        routes = [
            *pages.routes(ctx, archive, self._stopping),
            *archive_pages.routes(ctx, archive),
            *api.routes(ctx),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ]

        async def http_error(request: Request, exc: Exception) -> Response:
            assert isinstance(exc, HTTPException)
            ctx.count(f"http_{exc.status_code}")
            if ctx.api(request):
                return JSONResponse({"error": exc.detail}, exc.status_code, headers=exc.headers)
            return PlainTextResponse(exc.detail, exc.status_code, headers=exc.headers)

        async def bug(request: Request, exc: Exception) -> Response:
            ctx.count("http_500")
            log.exception("gallery console: %s %s failed", request.method, request.url.path)
            return JSONResponse({"error": "internal error (logged)"}, 500)

        return Starlette(
            routes=routes, exception_handlers={HTTPException: http_error, Exception: bug}
        )
