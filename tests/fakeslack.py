"""A fake Slack Web API on 127.0.0.1 for the real slack_sdk client.

It records every call, answers like Slack, can be told to answer 429 or 500, and validates every
`blocks` and `view` argument with slack_sdk's Block Kit models (plus the limits those models do not
check), so a payload Slack would reject fails the test that sent it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View


class BlockKitError(AssertionError):
    pass


_VALID: set[tuple[str, int]] = set()  # payloads that passed: a fan-out sends one payload 1,600 times


def validate_blocks(blocks: Any, limit: int = 50) -> None:
    key = (blocks if isinstance(blocks, str) else json.dumps(blocks, sort_keys=True), limit)
    if key in _VALID:
        return
    _validate_blocks(json.loads(blocks) if isinstance(blocks, str) else blocks, limit)
    _VALID.add(key)


def _validate_blocks(blocks: Any, limit: int) -> None:
    if len(blocks) > limit:
        raise BlockKitError(f"{len(blocks)} blocks > {limit}")
    action_ids: set[str] = set()
    for raw in blocks:
        parsed = Block.parse(raw)
        if parsed is None or type(parsed) is Block:
            raise BlockKitError(f"unknown block {raw.get('type')}")
        parsed.validate_json()
        for element in raw.get("elements", []) + ([raw["accessory"]] if "accessory" in raw else []):
            if "action_id" in element:
                if element["action_id"] in action_ids:
                    raise BlockKitError(f"duplicate action_id {element['action_id']}")
                action_ids.add(element["action_id"])
        if raw.get("type") == "input" and "action_id" in raw.get("element", {}):
            pass


def validate_view(view: Any) -> None:
    if isinstance(view, str):
        view = json.loads(view)
    View(**view).validate_json()
    validate_blocks(view.get("blocks", []), limit=100)
    for key in ("title", "submit", "close"):
        if key in view and len(view[key]["text"]) > 24:
            raise BlockKitError(f"view {key} longer than 24")
    if len(view.get("private_metadata", "")) > 3000:
        raise BlockKitError("private_metadata too long")


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float = field(default_factory=time.monotonic)  # when the fake received it


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)  # posts to response_url
    uploads: dict[str, bytes] = field(default_factory=dict)
    members: dict[str, list[str]] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=lambda: {"syv-projekt": "C0SYVPROJ", "personal": "CPERSONAL"})
    not_in: set[str] = field(default_factory=set)  # channels where chat.postMessage answers not_in_channel
    failures: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    url: str = ""
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None

    # --- control -----------------------------------------------------------------------------------
    def fail_next(self, method: str, status: int = 429, retry_after: int = 0, times: int = 1) -> None:
        self.failures.setdefault(method, []).extend([(status, retry_after)] * times)

    def of(self, method: str) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == method]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.of(method)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} {method} calls, got {len(self.of(method))}: "
                                     f"{[c.method for c in self.calls]}")
            await asyncio.sleep(0.01)
        return self.of(method)

    async def wait_responses(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.responses) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} response_url posts, got {len(self.responses)}")
            await asyncio.sleep(0.01)
        return self.responses

    async def wait_response_with(self, text: str, timeout: float = 5.0) -> dict[str, Any]:
        """The first response_url post whose visible text contains `text` (replies may arrive in any order)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = next((r for r in self.responses if text in json.dumps(r, ensure_ascii=False)), None)
            if found is not None:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no response_url post contains {text!r}")
            await asyncio.sleep(0.01)

    # --- server ------------------------------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack_sdk reads e.g. conversations.members with GET
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/respond/{key}", self._respond)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/api/"
        return self.url

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    @property
    def response_url(self) -> str:
        return self.url.replace("/api/", "/respond/hook")

    async def _args(self, request: web.Request) -> dict[str, Any]:
        # slack_sdk sends some methods' arguments as query parameters (GET, or POST with params).
        args: dict[str, Any] = dict(request.query)
        if request.method == "GET":
            return args
        if request.content_type == "application/json":
            return {**args, **dict(await request.json())}
        form = await request.post()
        return {**args, **{k: v for k, v in form.items()}}

    async def _respond(self, request: web.Request) -> web.Response:
        body = await request.json()
        try:
            if "blocks" in body:
                validate_blocks(body["blocks"])
        except Exception as exc:
            self.errors.append(f"response_url: {exc}")
            return web.Response(status=400, text=str(exc))
        self.responses.append(body)
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        self.uploads[request.match_info["file_id"]] = await request.read()
        return web.Response(text="OK")

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        pending = self.failures.get(method)
        if pending:
            status, retry_after = pending.pop(0)
            self.calls.append(Call(f"{method}#{status}", args))
            headers = {"Retry-After": str(retry_after)} if status == 429 else {}
            return web.json_response({"ok": False, "error": "ratelimited" if status == 429 else "fatal_error"},
                                     status=status, headers=headers)
        try:
            if "blocks" in args:
                validate_blocks(args["blocks"])
            if "view" in args:
                validate_view(args["view"])
        except Exception as exc:
            self.errors.append(f"{method}: {exc}")
            return web.json_response({"ok": False, "error": "invalid_blocks", "detail": str(exc)})
        self.calls.append(Call(method, args))
        if method == "chat.postMessage" and str(args.get("channel", "")) in self.not_in:
            return web.json_response({"ok": False, "error": "not_in_channel"})
        return web.json_response(self._answer(method, args))

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        ts = f"{1700000000 + next(self._ts)}.000100"
        channel = str(args.get("channel", ""))
        if method in {"chat.postMessage", "chat.update"}:
            if channel.startswith("U"):
                channel = "D" + channel[1:]
            return {"ok": True, "channel": channel, "ts": args.get("ts", ts),
                    "message": {"text": args.get("text"), "ts": args.get("ts", ts)}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "conversations.open":
            user = str(args.get("users", "U0")).split(",")[0]
            return {"ok": True, "channel": {"id": "D" + user[1:]}}
        if method == "conversations.list":
            return {"ok": True, "channels": [{"id": cid, "name": name} for name, cid in self.channels.items()],
                    "response_metadata": {"next_cursor": ""}}
        if method == "conversations.members":
            return {"ok": True, "members": self.members.get(channel, []), "response_metadata": {"next_cursor": ""}}
        if method in {"views.open", "views.push", "views.update", "views.publish"}:
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return {"ok": True, "view": {"id": f"V{ts}", **(view or {})}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts)}"
            return {"ok": True, "upload_url": self.url.replace("/api/", f"/upload/{file_id}"), "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = args.get("files")
            files = json.loads(files) if isinstance(files, str) else files
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files or []]}
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1"}
        if method == "users.info":
            return {"ok": True, "user": {"id": args.get("user"), "locale": "sv-SE"}}
        return {"ok": True}
