"""The guard every route goes through, and page rendering."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.templating import Jinja2Templates

from installation.errors import CurateError
from installation.web.context import Ctx, Refused, Who, read_form, refusal

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
Handler = Callable[[Request, Who], Awaitable[Response]]
NAV = (
    ("/", "Wall", "viewer"),
    ("/controls", "Controls", "technician"),
    ("/archive", "Archive", "viewer"),
    ("/outcomes", "Outcomes", "curator"),
    ("/log", "Log", "technician"),
)


def page(request: Request, name: str, data: dict[str, Any], status: int = 200) -> Response:
    from installation.show.web_config import may

    who: Who | None = data.get("who")
    nav = [(href, label) for href, label, role in NAV if who and may(who.user.role, role)]
    context = {"nav": nav, "path": request.url.path, "csrf": who.csrf if who else "", **data}
    return templates.TemplateResponse(request, name, context, status_code=status)


def guarded(ctx: Ctx, role: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Sign-in, role and CSRF checks, then the handler; refusals become 4xx answers."""

    def wrap(fn: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                if request.method == "POST" and not ctx.api(request):
                    await read_form(request)
                who = await ctx.who(request, role)
                return await fn(request, who)
            except Refused as r:
                return refusal(ctx, request, r, page)
            except CurateError as e:  # a bad day, faces or size: the curator's tools say why
                return refusal(ctx, request, Refused(400, str(e)), page)

        endpoint.__name__ = fn.__name__
        return endpoint

    return wrap


def ok(data: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(data, status)
