"""The artist's archive (grid, large view, pick, export, download) and the curator's outcomes."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from installation.core import events as ev
from installation.web.archive_view import FILE, ArchiveView, inside
from installation.web.context import Ctx, Refused, Who
from installation.web.outcomes import curate, outcome_rows
from installation.web.routing import guarded, page

PAGE_SIZE = 120


def routes(ctx: Ctx, archive: ArchiveView) -> list[Route]:
    g = guarded

    async def entry_of(request: Request) -> Any:
        p = request.path_params
        entry = await run_in_threadpool(archive.find, p["day"], p["name"])
        if entry is None:
            raise Refused(404, "no such archived picture")
        return entry

    @g(ctx, "viewer")
    async def grid(request: Request, who: Who) -> Response:
        q = request.query_params
        days = await run_in_threadpool(archive.days)
        day = q.get("day") or (days[0] if days else None)
        faces = q.get("faces", "").strip()
        found = await run_in_threadpool(archive.entries, day, faces) if day else []
        numbered = list(enumerate(found, start=1))[::-1][:PAGE_SIZE]  # newest first
        data = {
            "who": who,
            "days": days,
            "day": day,
            "faces": faces,
            "entries": numbered,
            "total": len(found),
            "shown": len(numbered),
            "job": dict(archive.job),
            "exported": archive.exported(),
        }
        return page(request, "archive.html", data)

    @g(ctx, "viewer")
    async def one(request: Request, who: Who) -> Response:
        entry = await entry_of(request)
        data = {
            "who": who,
            "e": entry,
            "provenance": archive.provenance(entry),
            "job": dict(archive.job),
            "done": request.query_params.get("done", "")[:200],
        }
        return page(request, "variation.html", data)

    @g(ctx, "viewer")
    async def thumb(request: Request, who: Who) -> Response:
        entry = await entry_of(request)
        data = await run_in_threadpool(archive.thumb, entry.path)
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "max-age=3600"})

    @g(ctx, "viewer")
    async def image(request: Request, who: Who) -> Response:
        entry = await entry_of(request)
        return FileResponse(entry.path, media_type="image/png")

    @g(ctx, "artist")
    async def download(request: Request, who: Who) -> Response:
        entry = await entry_of(request)
        return FileResponse(entry.path, media_type="image/png", filename=entry.path.name)

    @g(ctx, "artist")
    async def pick(request: Request, who: Who) -> Response:
        entry = await entry_of(request)
        target = await run_in_threadpool(archive.pick, entry)
        ctx.log_change(who, f"picked {entry.day}/{entry.path.name} into {target.parent}")
        return RedirectResponse(f"{_url(entry)}?done=picked into {target.parent.name}", 303)

    @g(ctx, "artist")
    async def export(request: Request, who: Who) -> Response:
        entry = await entry_of(request)
        size = request.state.form.get("size", "2048x2048")
        if not archive.export(entry, size):
            raise Refused(409, "an export is running; wait for it to finish")
        ctx.log_change(who, f"export of {entry.day}/{entry.path.name} at {size}")
        return RedirectResponse(f"{_url(entry)}?done=export started", 303)

    @g(ctx, "artist")
    async def exported(request: Request, who: Who) -> Response:
        name = request.path_params["name"]
        path = inside(archive.exports, name) if FILE.match(name) else None
        if path is None:
            raise Refused(404, "no such export")
        return FileResponse(path, media_type="image/png", filename=name)

    @g(ctx, "curator")
    async def outcomes(request: Request, who: Who) -> Response:
        rows, note, error = await run_in_threadpool(outcome_rows, ctx.show, archive)
        data = {
            "who": who,
            "rows": rows,
            "note": note,
            "error": error,
            "done": request.query_params.get("done", "")[:200],
        }
        return page(request, "outcomes.html", data)

    @g(ctx, "curator")
    async def curate_one(request: Request, who: Who) -> Response:
        key, action = request.path_params["key"], request.path_params["action"]
        what = await run_in_threadpool(curate, ctx.show, key, action, request.state.form)
        ctx.act(who, ev.ReloadShow(f"web:{who.user.name}"), what)
        return RedirectResponse(f"/outcomes?done={what}#o-{key}", 303)

    return [
        Route("/archive", grid, methods=["GET"]),
        Route("/archive/exports/{name}", exported, methods=["GET"]),
        Route("/archive/{day}/{name}", one, methods=["GET"]),
        Route("/archive/{day}/{name}/thumb", thumb, methods=["GET"]),
        Route("/archive/{day}/{name}/image", image, methods=["GET"]),
        Route("/archive/{day}/{name}/download", download, methods=["GET"]),
        Route("/archive/{day}/{name}/pick", pick, methods=["POST"]),
        Route("/archive/{day}/{name}/export", export, methods=["POST"]),
        Route("/outcomes", outcomes, methods=["GET"]),
        Route("/outcomes/{key}/{action}", curate_one, methods=["POST"]),
    ]


def _url(entry: Any) -> str:
    return f"/archive/{entry.day}/{entry.path.name}"
