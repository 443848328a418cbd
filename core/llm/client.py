"""A thin async client for ``POST {base_url}/chat/completions`` on callboard's own aiohttp stack.

Why not the ``openai`` package: callboard needs one endpoint, must see every 429 and 5xx itself (the
engine's rate-limit and retry rules, token accounting, one error per batch), and already has a pooled
aiohttp client (core/execution/http_client.py); the official client would add httpx's CPU-bound pool
(encode/httpx#3215) and its own hidden retries. The wire format is OpenAI's, so any compatible server
(OpenAI, Azure's /openai/v1, vLLM, Ollama, llama.cpp, LiteLLM) works.

The key goes only into the ``Authorization: Bearer`` header; error texts are scrubbed of it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from callboard.core.execution.base import RateLimited, RunError, TransientError
from callboard.core.execution.http_client import HttpClientPool, HttpReply
from callboard.core.execution.http_errors import parse_retry_after
from callboard.core.llm import usage
from callboard.core.llm.errors import LlmRefused, MalformedOutput
from callboard.core.llm.options import LlmOptions
from callboard.core.llm.pacing import RequestPacer
from callboard.core.llm.wire import Mode, Schema, error_message, parse_answer, request_body, usage_of

log = logging.getLogger(__name__)

# (structured-output mode, send the seed): tried in order when a server rejects a request (400/422).
LADDER: tuple[tuple[Mode, bool], ...] = (
    ("json_schema", True),
    ("tool", True),
    ("json", True),
    ("json", False),
)
MAX_RATE_LIMIT_WAITS = 5
MAX_TRANSIENT_TRIES = 4
MAX_WAIT_S = 60.0
_KEY_LIKE = re.compile(r"\b(sk|key)-[A-Za-z0-9_\-*]{4,}")


@dataclass(frozen=True)
class Answer:
    """One structured answer: the object, the text it came from, and what it cost."""

    data: dict[str, Any]
    raw: str
    mode: Mode
    prompt_tokens: int
    completion_tokens: int


class ChatClient:
    """Structured chat completions with pacing, in-client retries and a remembered output mode."""

    def __init__(
        self,
        options: LlmOptions,
        *,
        retry_base_s: float = 0.5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url = options.base_url.rstrip("/")
        self._url = self.base_url + "/chat/completions"
        key = options.api_key.get_secret_value() if options.api_key is not None else ""
        self._key = key
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._timeout = options.timeout_s
        self._pacer = RequestPacer(options.concurrency, options.rate_per_s)
        self._pool = HttpClientPool(max_connections=options.concurrency or 64)
        self._retry_base_s = retry_base_s
        self._sleep = sleep
        self._rungs: dict[str, int] = {}

    async def complete(
        self,
        messages: list[dict[str, str]],
        schema: Schema,
        *,
        model: str,
        temperature: float,
        seed: int | None,
    ) -> Answer:
        """Ask ``model`` for one object of ``schema``; raises MalformedOutput, LlmRefused, TransientError."""
        start = self._rungs.get(model, 0)
        first_refusal: HttpReply | None = None
        for rung in range(start, len(LADDER)):
            mode, with_seed = LADDER[rung]
            body = request_body(model, messages, schema, mode, temperature, seed if with_seed else None)
            reply = await self._post(body)
            if reply.status in (400, 422):
                first_refusal = first_refusal or reply
                continue
            if reply.status >= 400:
                raise self._refusal(reply, model)
            if rung != start:
                log.info("model %s: structured output falls back to mode %s", model, mode)
                self._rungs[model] = rung
            return self._answer(reply, mode)
        assert first_refusal is not None
        raise self._refusal(first_refusal, model)

    def _answer(self, reply: HttpReply, mode: Mode) -> Answer:
        try:
            document = reply.json()
        except ValueError:
            raise MalformedOutput(f"the response is not JSON: {error_message(reply.text)}") from None
        prompt_tokens, completion_tokens = usage_of(document)
        usage.record(prompt_tokens, completion_tokens)
        data, raw = parse_answer(document, mode)
        return Answer(data, raw, mode, prompt_tokens, completion_tokens)

    async def _post(self, body: dict[str, Any]) -> HttpReply:
        """One request, retrying 429 (honouring Retry-After), 5xx, lost connections and timeouts."""
        waits = tries = 0
        while True:
            retry_after: float | None = None
            async with self._pacer.slot():
                try:
                    reply = await self._pool.request(
                        "POST", self._url, headers=self._headers, json=body, timeout=self._timeout
                    )
                except TransientError as exc:
                    problem, reply = self.scrub(exc.message), None
                except RunError as exc:
                    if exc.kind != "timeout":
                        raise LlmRefused("llm_config", self.scrub(exc.message)) from None
                    problem, reply = f"no answer within {self._timeout:g} s", None
            if reply is not None and reply.status == 429:
                waits += 1
                retry_after = parse_retry_after(reply.headers.get("Retry-After"))
                problem = f"rate limited (429): {self.scrub(error_message(reply.text))}"
                if waits > MAX_RATE_LIMIT_WAITS:
                    raise RateLimited("llm_rate_limited", f"the model endpoint: {problem}", retry_after)
            elif reply is not None and reply.status < 500:
                return reply
            else:
                tries += 1
                if reply is not None:
                    problem = f"server error {reply.status}: {self.scrub(error_message(reply.text))}"
                if tries >= MAX_TRANSIENT_TRIES:
                    raise TransientError("llm_unavailable", f"the model endpoint: {problem}")
            delay = retry_after if retry_after is not None else self._retry_base_s * 2 ** (waits + tries - 1)
            log.info("model endpoint: %s; retrying in %.2fs", problem, min(delay, MAX_WAIT_S))
            await self._sleep(min(delay, MAX_WAIT_S))

    def _refusal(self, reply: HttpReply, model: str) -> LlmRefused:
        detail = self.scrub(error_message(reply.text))
        if reply.status in (401, 403):
            return LlmRefused(
                "llm_auth",
                f"the model endpoint {self.base_url} refused the API key ({reply.status}): {detail}; "
                "check CALLBOARD_LLM__API_KEY",
            )
        if reply.status == 404:
            return LlmRefused(
                "llm_model",
                f"model {model!r} not found at {self.base_url} (404): {detail}; check [llm].model",
            )
        return LlmRefused(
            "llm_request", f"the model endpoint rejected the request ({reply.status}): {detail}"
        )

    def scrub(self, text: str) -> str:
        """``text`` with the API key, and anything shaped like a key, blanked out."""
        if self._key:
            text = text.replace(self._key, "**********")
        return _KEY_LIKE.sub(lambda match: match.group(1) + "-**********", text)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._pool.aclose()
