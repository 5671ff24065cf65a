"""Loopback X and Bluesky: real HTTP servers on 127.0.0.1 that the bot's real clients (tweepy's
aiohttp session, atproto's httpx client) reach through the network stack, pointed at by the
`X_API_URL` and `BLUESKY_API_URL` settings, in-process or from a bot subprocess.

They answer in the services' documented shapes and are as strict as they are:
- X API v2: POST /2/tweets with OAuth 1.0a user context (201 {"data": {"id", "text",
  "edit_history_tweet_ids"}}; an identical text from the account is refused with 403 "You are not
  allowed to create a Tweet with duplicate content."), GET /2/tweets/search/recent and
  /2/tweets/counts/recent with the app's bearer token; errors as {"title", "detail", "type",
  "status"}, 429 with x-rate-limit-reset.
- Bluesky XRPC: com.atproto.server.createSession (a session whose DID document names this server
  as the account's PDS), refreshSession with the refresh token, app.bsky.feed.searchPosts with
  the access token; errors as {"error", "message"}: 401 AuthenticationRequired, 400 ExpiredToken
  for a token past its time, 429 RateLimitExceeded with ratelimit-reset.

Each fails on demand the ways the real ones do (`Fault`): no answer at all, an answer trickling
in a byte at a time, the connection closed, an answer cut half-way, 5xx, 429, an HTML page, JSON
of another shape.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

X_BEARER = "loopback-bearer-token"
X_CREDENTIALS = {
    "X_API_KEY": "loopback-consumer-key",
    "X_API_SECRET": "loopback-consumer-secret",
    "X_ACCESS_TOKEN": "loopback-access-token",
    "X_ACCESS_TOKEN_SECRET": "loopback-access-secret",
}
BLUESKY_HANDLE = "stepup.bsky.social"
BLUESKY_PASSWORD = "loop-back-app-pass"
# Every secret the bot is given: none may appear in its log.
SECRETS = (X_BEARER, *X_CREDENTIALS.values(), BLUESKY_PASSWORD)
X_EPOCH_MS = 1288834974657
X_DUPLICATE = {
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
X_UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
HTML_PAGE = b"<!DOCTYPE html><html><body><h1>Something went wrong</h1></body></html>"


def x_account_settings(x: FakeX) -> dict[str, str]:
    """Settings (as `Settings` keywords) posting the daily prompt to the loopback X `x`."""
    return {"x_api_url": x.url, **{name.lower(): value for name, value in X_CREDENTIALS.items()}}


def _x_problem(status: int, title: str) -> dict[str, Any]:
    return {"title": title, "detail": title, "type": "about:blank", "status": status}


# --- the services' shapes, for this module's servers and the tests' in-process fakes -------------


def x_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def tweet_json(tweet_id: str, text: str, at: dt.datetime, author_id: str, likes: int = 0) -> dict:
    """A post as X API v2 returns it with tweet.fields public_metrics, created_at, author_id."""
    return {
        "id": tweet_id,
        "text": text,
        "created_at": x_time(at),
        "author_id": author_id,
        "edit_history_tweet_ids": [tweet_id],
        "public_metrics": {
            "retweet_count": 0,
            "reply_count": 0,
            "like_count": likes,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": likes * 20,
        },
    }


def bsky_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def post_view(rkey: str, did: str, handle: str, text: str, at: dt.datetime, likes: int = 0) -> dict:
    """An app.bsky.feed.defs#postView as searchPosts returns it, indexed a second after `at`."""
    return {
        "uri": f"at://{did}/app.bsky.feed.post/{rkey}",
        "cid": "bafyreib2rxk3rh6kzwq4bzl2yvfqxqhlwz6vp5hyrdmmwqxkgsbq5mqjvq",
        "author": {"did": did, "handle": handle},
        "record": {
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": bsky_time(at),
            "langs": ["en"],
        },
        "replyCount": 0,
        "repostCount": 0,
        "likeCount": likes,
        "quoteCount": 0,
        "indexedAt": bsky_time(at + dt.timedelta(seconds=1)),
        "labels": [],
    }


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def jwt(did: str, scope: str, issued: int, expires: int, jti: str = "1") -> str:
    """A token shaped as Bluesky's (atproto reads its expiry; nobody checks the signature)."""
    payload = {"scope": scope, "sub": did, "iat": issued, "exp": expires, "jti": jti}
    return f"{_b64({'typ': 'at+jwt', 'alg': 'ES256K'})}.{_b64(payload)}.c2lnbmF0dXJl"


def session_json(did: str, handle: str, access: str, refresh: str, pds: str) -> dict[str, Any]:
    """createSession's and refreshSession's answer: the tokens and a DID document naming the
    account's own server (PDS), where atproto sends every later request."""
    return {
        "did": did,
        "handle": handle,
        "email": "team@example.org",
        "emailConfirmed": True,
        "accessJwt": access,
        "refreshJwt": refresh,
        "active": True,
        "didDoc": {
            "@context": ["https://www.w3.org/ns/did/v1"],
            "id": did,
            "alsoKnownAs": [f"at://{handle}"],
            "verificationMethod": [
                {
                    "id": f"{did}#atproto",
                    "type": "Multikey",
                    "controller": did,
                    "publicKeyMultibase": "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF",
                }
            ],
            "service": [
                {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": pds}
            ],
        },
    }


@dataclass
class Fault:
    """How the service fails its next requests: `kind` is one of "hang" (never answers),
    "trickle" (headers, then a byte now and then, never the end), "close" (drops the
    connection), "cut" (answers `status` and `headers`, then drops the connection half-way
    through `body`), "status" (answers `status` with `body`, JSON or raw bytes, and `headers`).
    `times` answers that fail (None: until cleared); `paths` limits it to paths ending so."""

    kind: str
    status: int = 500
    body: dict[str, Any] | bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    times: int | None = None
    paths: tuple[str, ...] = ()


def server_error(status: int = 503) -> Fault:
    return Fault("status", status, _x_problem(status, "Service Unavailable"))


def html_page(status: int = 200) -> Fault:
    return Fault("status", status, HTML_PAGE, {"Content-Type": "text/html; charset=utf-8"})


def x_rate_limited(reset: dt.datetime) -> Fault:
    return Fault(
        "status",
        429,
        _x_problem(429, "Too Many Requests"),
        {
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(int(reset.timestamp())),
        },
    )


def bluesky_rate_limited(reset: dt.datetime) -> Fault:
    return Fault(
        "status",
        429,
        {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
        {
            "ratelimit-limit": "3000",
            "ratelimit-remaining": "0",
            "ratelimit-reset": str(int(reset.timestamp())),
            "ratelimit-policy": "3000;w=300",
        },
    )


class LoopbackService:
    """An aiohttp server on a free loopback port that fails on demand (`fault`), its routes
    below `prefix` (as behind a proxy at a path of its own) when given."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.fault: Fault | None = None
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._held: list[asyncio.Event] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    async def __aenter__(self) -> LoopbackService:
        app = web.Application(middlewares=[self._failing])
        app.add_routes(self.routes())
        if self.prefix:
            proxy = web.Application()
            proxy.add_subapp(self.prefix, app)
            app = proxy
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for held in self._held:
            held.set()
        await self._runner.cleanup()

    def calls(self, path_end: str) -> int:
        return sum(path.endswith(path_end) for _, path in self.requests)

    @web.middleware
    async def _failing(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        fault = self.fault
        if fault is None or (fault.paths and not request.path.endswith(fault.paths)):
            return await handler(request)
        if fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                self.fault = None
        if fault.kind == "hang":
            held = asyncio.Event()
            self._held.append(held)
            await held.wait()
        if fault.kind == "close":
            request.transport.close()
            raise asyncio.CancelledError  # nothing is answered on a closed connection
        if fault.kind == "cut":
            body = fault.body if isinstance(fault.body, bytes) else json.dumps(fault.body).encode()
            headers = {"Content-Type": "application/json", **fault.headers}
            response = web.StreamResponse(status=fault.status, headers=headers)
            response.content_length = len(body)
            await response.prepare(request)
            await response.write(body[: len(body) // 2])
            request.transport.close()
            raise asyncio.CancelledError  # the rest of the answer never comes
        if fault.kind == "trickle":
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            response.content_length = 1_000_000
            await response.prepare(request)
            while True:
                await response.write(b" ")
                await asyncio.sleep(0.5)
        if isinstance(fault.body, bytes):
            return web.Response(status=fault.status, body=fault.body, headers=fault.headers)
        return web.json_response(fault.body, status=fault.status, headers=fault.headers)


# --- X -----------------------------------------------------------------------------------------


class FakeX(LoopbackService):
    """The coalition's X account and X's recent search and counts."""

    def __init__(self, prefix: str = "") -> None:
        super().__init__(prefix)
        self.posts: list[str] = []  # texts the account posted, oldest first
        self.tweets: list[dict[str, Any]] = []  # everyone's posts, for search
        self.refused_duplicates = 0
        # Called with the text as a post is accepted, before the answer leaves (a kill lands here).
        self.on_post: Callable[[str], None] | None = None
        self._ids = itertools.count(1)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/2/tweets", self._create),
            web.get("/2/tweets/search/recent", self._search),
            web.get("/2/tweets/counts/recent", self._counts),
        ]

    def tweet(self, hashtag: str, at: dt.datetime, *, likes: int = 0) -> str:
        """Someone posts on X with `hashtag`; returns the post's id (a snowflake of `at`)."""
        tweet_id = str(((int(at.timestamp() * 1000) - X_EPOCH_MS) << 22) + next(self._ids))
        text = f"Standing with migrant women #{hashtag}"
        self.tweets.append(tweet_json(tweet_id, text, at, "2244994945", likes))
        return tweet_id

    async def _create(self, request: web.Request) -> web.Response:
        oauth = request.headers.get("Authorization", "")
        signed = all(
            f'{name}="' in oauth
            for name in ("oauth_consumer_key", "oauth_token", "oauth_signature", "oauth_nonce")
        )
        if not oauth.startswith("OAuth ") or not signed:
            return web.json_response(X_UNAUTHORIZED, status=401)
        text = (await request.json())["text"]
        if text in self.posts:
            self.refused_duplicates += 1
            return web.json_response(X_DUPLICATE, status=403)
        self.posts.append(text)
        if self.on_post:
            self.on_post(text)
        post_id = str(1861000000000000000 + len(self.posts))
        body = {"data": {"id": post_id, "edit_history_tweet_ids": [post_id], "text": text}}
        return web.json_response(body, status=201)

    def _bearer(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {X_BEARER}"

    async def _search(self, request: web.Request) -> web.Response:
        if not self._bearer(request):
            return web.json_response(X_UNAUTHORIZED, status=401)
        hashtag = request.query["query"].split()[0].lstrip("#")
        since = int(request.query.get("since_id", 0))
        found = sorted(
            (t for t in self.tweets if f"#{hashtag}" in t["text"] and int(t["id"]) > since),
            key=lambda t: -int(t["id"]),
        )[: int(request.query["max_results"])]
        if not found:
            return web.json_response({"meta": {"result_count": 0}})
        user = {"id": "2244994945", "name": "Supporter", "username": "supporter"}
        meta = {
            "newest_id": found[0]["id"],
            "oldest_id": found[-1]["id"],
            "result_count": len(found),
        }
        return web.json_response({"data": found, "includes": {"users": [user]}, "meta": meta})

    async def _counts(self, request: web.Request) -> web.Response:
        if not self._bearer(request):
            return web.json_response(X_UNAUTHORIZED, status=401)
        start = dt.datetime.fromisoformat(request.query["start_time"].replace("Z", "+00:00"))
        end = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)
        buckets = []
        while start < end:
            hour = start.replace(minute=0, second=0, microsecond=0)
            stop = min(hour + dt.timedelta(hours=1), end)
            count = sum(
                start <= dt.datetime.fromisoformat(t["created_at"].replace("Z", "+00:00")) < stop
                for t in self.tweets
            )
            buckets.append({"end": x_time(stop), "start": x_time(start), "tweet_count": count})
            start = hour + dt.timedelta(hours=1)
        total = sum(bucket["tweet_count"] for bucket in buckets)
        return web.json_response({"data": buckets, "meta": {"total_tweet_count": total}})


# --- Bluesky -----------------------------------------------------------------------------------


class FakeBluesky(LoopbackService):
    """bsky.social's sign-in and the account's PDS (this same server) answering searchPosts.

    Access tokens last `access_seconds` (bsky.social's last two hours) and refresh tokens as
    long as the account's app password is valid; `expire_sessions()` ends every token at once,
    as a server restart or a revoked session does, however long the client thinks it has."""

    DID = "did:plc:z72i7hdynmk6r22z27h6tvur"

    def __init__(self, access_seconds: int = 7200) -> None:
        super().__init__()
        self.access_seconds = access_seconds
        self.password = BLUESKY_PASSWORD
        self.posts: list[tuple[str, dict[str, Any]]] = []  # (tag, post view)
        self._access: set[str] = set()
        self._refresh: set[str] = set()
        self._tokens = itertools.count(1)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/xrpc/com.atproto.server.createSession", self._create_session),
            web.post("/xrpc/com.atproto.server.refreshSession", self._refresh_session),
            web.get("/xrpc/app.bsky.feed.searchPosts", self._search),
        ]

    def expire_sessions(self, *, refresh_too: bool = False) -> None:
        self._access.clear()
        if refresh_too:
            self._refresh.clear()

    def post(self, tag: str, at: dt.datetime, *, likes: int = 0) -> None:
        rkey = f"3l{len(self.posts):011d}"
        did, handle = "did:plc:ragtjsm2j2vknwkz3zp4oxrd", "supporter.bsky.social"
        text = f"Standing with migrant women #{tag}"
        self.posts.append((tag, post_view(rkey, did, handle, text, at, likes)))

    def _session(self) -> dict[str, Any]:
        now = int(time.time())
        access = jwt(self.DID, "com.atproto.appPass", now, now + self.access_seconds, self._jti())
        refresh = jwt(self.DID, "com.atproto.refresh", now, now + 90 * 24 * 3600, self._jti())
        self._access.add(access)
        self._refresh.add(refresh)
        return session_json(self.DID, BLUESKY_HANDLE, access, refresh, self.url)

    def _jti(self) -> str:
        return str(next(self._tokens))

    @staticmethod
    def _error(status: int, error: str, message: str) -> web.Response:
        return web.json_response({"error": error, "message": message}, status=status)

    def _token(self, request: web.Request, valid: set[str]) -> web.Response | None:
        """None if the request carries a token in `valid`; else Bluesky's refusal."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return self._error(401, "AuthenticationRequired", "Authentication Required")
        if header.removeprefix("Bearer ") not in valid:
            return self._error(400, "ExpiredToken", "Token has expired")
        return None

    async def _create_session(self, request: web.Request) -> web.Response:
        body = await request.json()
        if (body.get("identifier"), body.get("password")) != (BLUESKY_HANDLE, self.password):
            return self._error(401, "AuthenticationRequired", "Invalid identifier or password")
        return web.json_response(self._session())

    async def _refresh_session(self, request: web.Request) -> web.Response:
        if refused := self._token(request, self._refresh):
            return refused
        self._refresh.discard(request.headers["Authorization"].removeprefix("Bearer "))
        return web.json_response(self._session())

    async def _search(self, request: web.Request) -> web.Response:
        if refused := self._token(request, self._access):
            return refused
        tag = request.query["tag"]
        since = request.query.get("since")
        earliest = dt.datetime.fromisoformat(since) if since else None
        views = [
            view
            for post_tag, view in self.posts
            if post_tag == tag
            and (earliest is None or dt.datetime.fromisoformat(view["indexedAt"]) >= earliest)
        ]
        views.sort(key=lambda view: view["indexedAt"], reverse=True)
        return web.json_response({"posts": views[: int(request.query["limit"])]})
