"""The wall, controls and log pages, sign-in, and the live stream the wall listens to."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from installation.core import events as ev
from installation.core.dice import Throw
from installation.web.archive_view import ArchiveView
from installation.web.context import COOKIE, Ctx, Refused, Who, read_form
from installation.web.routing import guarded, page
from installation.web.views import wall_view

STREAMS_MAX = 16  # live wall pages at once; more get 503 (each costs a little every second)
STREAM_EVERY_S = 1.0


def routes(ctx: Ctx, archive: ArchiveView, stopping: asyncio.Event | Any) -> list[Route]:
    g = guarded
    streams = [0]

    async def signin_form(request: Request) -> Response:
        return page(request, "signin.html", {"next": _next(request), "message": ""})

    async def signin(request: Request) -> Response:
        try:
            form = await read_form(request)
            user = await ctx.sign_in(request, form.get("name", ""), form.get("password", ""))
        except Refused as r:
            ctx.count(f"http_{r.status}")
            data = {"next": _next(request), "message": r.message}
            response = page(request, "signin.html", data, r.status)
            response.headers.update(r.headers)
            return response
        token, _ = ctx.sessions.new(user.name)
        ctx.count("signins")
        response = RedirectResponse(_next(request, form.get("next")), 303)
        response.set_cookie(
            COOKIE,
            token,
            max_age=int(ctx.sessions.lifetime_s),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    @g(ctx, "viewer")
    async def signout(request: Request, who: Who) -> Response:
        ctx.sessions.end(request.cookies.get(COOKIE))
        response = RedirectResponse("/signin", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @g(ctx, "viewer")
    async def wall(request: Request, who: Who) -> Response:
        view = wall_view(ctx.snapshot(), ctx.show)
        return page(request, "wall.html", {"who": who, "view": view})

    @g(ctx, "viewer")
    async def events(request: Request, who: Who) -> Response:
        if streams[0] >= STREAMS_MAX:
            raise Refused(503, f"too many live pages open (at most {STREAMS_MAX})")
        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    async def stream() -> AsyncIterator[str]:
        streams[0] += 1
        try:
            last = ""
            while not stopping.is_set():
                view = await run_in_threadpool(wall_view, ctx.snapshot(), ctx.show)
                text = json.dumps(view)
                yield f"data: {text}\n\n" if text != last else ": still\n\n"
                last = text
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), STREAM_EVERY_S)
        finally:
            streams[0] -= 1

    @g(ctx, "viewer")
    async def now_picture(request: Request, who: Who) -> Response:
        path = await run_in_threadpool(archive.latest)
        if path is None:
            raise Refused(404, "nothing archived yet")
        data = await run_in_threadpool(archive.thumb, path, 640)
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})

    @g(ctx, "technician")
    async def controls(request: Request, who: Who) -> Response:
        data = {
            "who": who,
            "done": request.query_params.get("done", "")[:80],
            "dice": ctx.show.dice.count,
            "faces": ctx.show.dice.faces,
            "projectors": bool(ctx.show.projectors),
            "state": ctx.snapshot().get("state"),
        }
        return page(request, "controls.html", data)

    @g(ctx, "technician")
    async def control(request: Request, who: Who) -> Response:
        action = request.path_params["action"]
        form = request.state.form
        to = form.get("to", "")
        event: object
        if action == "throw":
            texts = [form.get(f"die{i}", "").strip() for i in range(1, ctx.show.dice.count + 1)]
            faces = [int(t) if t.isdigit() and len(t) < 6 else t for t in texts]
            event, what = throw_event(ctx, faces, who), f"throw {'-'.join(texts)}"
        elif action == "hours":
            if to not in HOURS:
                raise Refused(400, f"hours: got to={to!r}; expected open, close or schedule")
            event, what = ev.HoursOverride(HOURS[to], source=who.user.name), f"hours override: {to}"
        elif action == "projectors":
            if to not in POWER:
                raise Refused(400, f"projectors: got to={to!r}; expected on, off or schedule")
            event, what = ev.ProjectorPower(POWER[to], who.user.name), f"projectors: {to}"
        else:
            event, what = command_event(action, who)
        ctx.act(who, event, what)
        return RedirectResponse(f"/controls?done={what}", 303)

    @g(ctx, "technician")
    async def log_page(request: Request, who: Who) -> Response:
        lines = list(ctx.tail.lines)[-300:]
        return page(request, "log.html", {"who": who, "lines": lines[::-1]})

    return [
        Route("/signin", signin_form, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/", wall, methods=["GET"]),
        Route("/events", events, methods=["GET"]),
        Route("/now.jpg", now_picture, methods=["GET"]),
        Route("/controls", controls, methods=["GET"]),
        Route("/controls/{action}", control, methods=["POST"]),
        Route("/log", log_page, methods=["GET"]),
    ]


HOURS: dict[str, str | None] = {"open": "open", "close": "closed", "schedule": None}
POWER: dict[str, bool | None] = {"on": True, "off": False, "schedule": None}
COMMANDS: dict[str, tuple[Callable[[], object], str]] = {
    "blackout": (lambda: ev.Blackout("web"), "blackout"),
    "resume": (lambda: ev.Resume("web"), "resume"),
    "roll": (lambda: ev.RandomThrow("web"), "random throw"),
    "reload": (lambda: ev.ReloadShow("web"), "reload"),
}


def command_event(action: str, who: Who) -> tuple[object, str]:
    if action not in COMMANDS:
        raise Refused(404, f"no action {action!r}; expected one of {', '.join(COMMANDS)}, throw")
    make, what = COMMANDS[action]
    return make(), what


def throw_event(ctx: Ctx, faces: Any, who: Who) -> ev.ThrowCommitted:
    """A throw from the console, checked like /installation/throw: one face per die."""
    count, top = ctx.show.dice.count, ctx.show.dice.faces
    usage = f"expected faces as a list of {count} whole numbers from 1 to {top}, e.g. "
    usage += str([min(3, top)] * count)
    if not isinstance(faces, list) or len(faces) != count:
        raise Refused(400, f"faces: got {json_repr(faces)}; {usage}")
    out = []
    for i, f in enumerate(faces, start=1):
        if isinstance(f, bool) or not isinstance(f, int) or not 1 <= f <= top:
            raise Refused(400, f"faces: die {i} is {json_repr(f)}; {usage}")
        out.append(f)
    return ev.ThrowCommitted(Throw(tuple(out), f"web:{who.user.name}"))


def json_repr(value: object) -> str:
    return json.dumps(value, default=str)[:80]


def _next(request: Request, given: str | None = None) -> str:
    """Where to go after signing in: a local path only (never another site)."""
    target = given or request.query_params.get("next") or "/"
    local = target.startswith("/") and not target.startswith("//") and "\\" not in target
    return target if local else "/"
