"""The JSON API (HTTP Basic or a signed-in page) and /metrics in Prometheus' text format."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from installation.web.context import Ctx, Refused, Who, read_json
from installation.web.pages import command_event, throw_event
from installation.web.routing import guarded, ok


def routes(ctx: Ctx) -> list[Route]:
    g = guarded

    @g(ctx, "viewer")
    async def status(request: Request, who: Who) -> Response:
        return JSONResponse(ctx.snapshot())

    @g(ctx, "technician")
    async def command(request: Request, who: Who) -> Response:
        action = request.path_params["action"]
        body = await read_json(request)
        if body not in (None, {}):
            raise Refused(400, f"/api/{action} takes no arguments; send no body or {{}}")
        event, what = command_event(action, who)
        ctx.act(who, event, what)
        return ok({"ok": True, "queued": what}, 202)

    @g(ctx, "technician")
    async def throw(request: Request, who: Who) -> Response:
        body = await read_json(request)
        if not isinstance(body, dict) or set(body) != {"faces"}:
            raise Refused(400, 'expected a JSON object {"faces": [3, 5]} (one face per die)')
        event = throw_event(ctx, body["faces"], who)
        ctx.act(who, event, f"throw {event.throw.key}")
        return ok({"ok": True, "queued": "throw", "faces": list(event.throw.faces)}, 202)

    @g(ctx, "viewer")
    async def metrics(request: Request, who: Who) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    registry = metrics_registry(ctx.snapshot, ctx.counts)
    return [
        Route("/api/status", status, methods=["GET"]),
        Route("/api/throw", throw, methods=["POST"]),
        Route("/api/{action}", command, methods=["POST"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]


def metrics_registry(snapshot: Callable[[], dict[str, Any]], web: dict[str, int]) -> Any:
    """A private registry whose one collector reads the status snapshot at scrape time."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import (
        CounterMetricFamily,
        GaugeMetricFamily,
        HistogramMetricFamily,
        Metric,
    )

    class StatusCollector:
        def collect(self) -> Iterator[Metric]:
            s = snapshot()
            sections = s.get("sections") or {}
            counts = s.get("counts") or {}
            p = "installation_"
            yield CounterMetricFamily(p + "throws", "Throws committed", counts.get("throws", 0))
            yield CounterMetricFamily(
                p + "variations_shown", "Variations put on the wall", counts.get("variations", 0)
            )
            faults = CounterMetricFamily(p + "faults", "Faults by kind", labels=["kind"])
            for kind, n in (s.get("faults") or {}).items():
                faults.add_metric([str(kind)], n)
            yield faults
            yield GaugeMetricFamily(p + "fps", "Frames per second of the wall", s.get("fps", 0))
            worker = sections.get("worker") or {}
            yield CounterMetricFamily(
                p + "worker_restarts", "Generation worker restarts", worker.get("restarts", 0)
            )
            cache = sections.get("cache") or {}
            yield CounterMetricFamily(p + "cache_hits", "Outcome cache hits", cache.get("hits", 0))
            yield CounterMetricFamily(
                p + "cache_misses", "Outcome cache misses", cache.get("misses", 0)
            )
            yield GaugeMetricFamily(p + "cache_fill", "Cache fill (0..1)", cache.get("fill", 0))
            hist = (s.get("latency_ms") or {}).get("histogram")
            if hist:
                buckets, total = [], 0
                for le, n in zip(hist["le"], hist["counts"], strict=True):
                    total += n
                    buckets.append((str(le) if le == "+Inf" else f"{le / 1000:g}", total))
                yield HistogramMetricFamily(
                    p + "throw_to_screen_seconds",
                    "Throw to screen latency",
                    buckets=buckets,
                    sum_value=hist["sum"] / 1000,
                )
            requests = CounterMetricFamily(p + "web_events", "Console events", labels=["what"])
            for what, n in sorted(web.items()):
                requests.add_metric([what], n)
            yield requests

    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatusCollector())
    return registry
