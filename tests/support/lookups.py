"""postcodes.io and the UK Parliament Members API on loopback, for the bot run as its own process
(`stepup-bot run` reaches them through POSTCODES_API_URL and MEMBERS_API_URL): they answer from
the `stepup-bot try --sample-data` samples (bot/app/samples.py: SW1A 1AA is Alex Sample's
seat...), or fail in one of the ways real services do when `failure` is set.

In a test: `async with Lookups() as lookups: ... lookups.url ...`; the attack (bench/attack.py)
switches `failure` on and off as it goes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from aiohttp import web

from bot.app.samples import sample_lookups
from bot.config import Settings

# What outside services can do wrong, each served by `Lookups` when it is switched to it.
FAILURES = ("500", "502", "503", "429", "hang", "close", "invalid", "shape")


@dataclass
class Lookups:
    """postcodes.io and the Members API on loopback: the samples, or `failure`."""

    failure: str | None = None
    asked: int = 0
    port: int = 0
    runner: web.AppRunner | None = None
    answer: Callable[[httpx.Request], httpx.Response] | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.port = self.runner.addresses[0][1]
        settings = Settings(_env_file=None, postcodes_api_url=self.url, members_api_url=self.url)
        self.answer = sample_lookups(settings).handler

    async def __aenter__(self) -> Lookups:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.asked += 1
        html = "<html><body><h1>Service unavailable</h1></body></html>"
        match self.failure:
            case "500":
                return web.json_response({"status": 500, "error": "Server error"}, status=500)
            case "502" | "503":
                return web.Response(status=int(self.failure), text=html, content_type="text/html")
            case "429":
                return web.json_response({"status": 429}, status=429, headers={"Retry-After": "60"})
            case "hang":
                await asyncio.sleep(3600)
            case "close":
                request.transport.close()
                return web.Response()
            case "invalid":
                return web.Response(
                    text='{"status": 200, "result": {', content_type="application/json"
                )
            case "shape":
                return web.json_response({"status": 200, "result": ["not", "an", "object"]})
        proxied = self.answer(httpx.Request("GET", f"{self.url}{request.path_qs}"))
        return web.Response(
            status=proxied.status_code, body=proxied.content, content_type="application/json"
        )
