"""The intelligence.twilio.com/v2 routes: create, list, fetch and delete Transcripts, list Sentences.

One transcript per recording (see ``transcript_book``); Sentences' ``WordTimestamps`` defaults to false,
as Twilio's OpenAPI says ("The default is `false`"), so words are null unless asked for.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callboard.core.simulator.errors import bad_request, not_found
from callboard.core.simulator.state import Simulator
from callboard.core.simulator.transcripts import Transcript
from callboard.core.simulator.web import authorize, base_url, page_params, query_form, read_form

_SERVICE_SID = re.compile(r"^GA[0-9a-fA-F]{32}$")


async def create_transcript(request: Request) -> Response:
    """POST /v2/Transcripts with ServiceSid, Channel (JSON naming media_properties.source_sid, a RE SID)
    and CustomerKey. Answers 202 Accepted, as Twilio's OpenAPI document says."""
    sim = authorize(request)
    form = await read_form(request)
    service_sid = form.get("ServiceSid")
    if service_sid is None:
        raise bad_request(20001, "Missing required parameter ServiceSid in the post body")
    if not _SERVICE_SID.match(service_sid):
        raise bad_request(20001, f"Invalid ServiceSid {service_sid!r}")
    channel = _channel(form.get("Channel"))
    source_sid = channel.get("media_properties", {}).get("source_sid")
    now = sim.clock.now()
    call = sim.recorded_call(source_sid, now) if isinstance(source_sid, str) else None
    if call is None or call.conversation is None or call.answer_at is None:
        raise bad_request(20001, f"Invalid Channel: no completed recording {source_sid!r} to transcribe")
    sim.transcripts.transcribe_automatically(sim.calls.values(), now)
    transcript = sim.transcripts.create(call, service_sid, channel, form.get("CustomerKey"), now)
    body = transcript.to_json(sim.clock, now, sim.config, base_url(request))
    return JSONResponse(body, status_code=202)


async def list_transcripts(request: Request) -> Response:
    """GET /v2/Transcripts, newest first, filtered by ServiceSid, Status and SourceSid."""
    sim = authorize(request)
    now = sim.clock.now()
    sim.transcripts.transcribe_automatically(sim.calls.values(), now)
    query = query_form(request)
    filters = {name: query.get(name) for name in ("ServiceSid", "Status", "SourceSid")}
    found = [
        item
        for item in reversed(sim.transcripts.by_sid.values())
        if filters["ServiceSid"] in (None, item.service_sid)
        and filters["Status"] in (None, item.status(now, sim.config))
        and filters["SourceSid"] in (None, item.source_sid)
    ]
    items = [item.to_json(sim.clock, now, sim.config, base_url(request)) for item in found]
    extra = {name: value for name, value in filters.items() if value is not None}
    return JSONResponse(v2_page(request, "transcripts", items, extra))


async def delete_transcript(request: Request) -> Response:
    """DELETE /v2/Transcripts/{Sid}: 204."""
    sim = authorize(request)
    transcript = _find(sim, request, "Sid")
    sim.transcripts.delete(transcript.sid)
    return Response(status_code=204)


async def fetch_transcript(request: Request) -> Response:
    """GET /v2/Transcripts/{Sid}."""
    sim = authorize(request)
    transcript = _find(sim, request, "Sid")
    return JSONResponse(transcript.to_json(sim.clock, sim.clock.now(), sim.config, base_url(request)))


async def list_sentences(request: Request) -> Response:
    """GET /v2/Transcripts/{TranscriptSid}/Sentences: empty until the transcript is completed."""
    sim = authorize(request)
    transcript = _find(sim, request, "TranscriptSid")
    completed = transcript.status(sim.clock.now(), sim.config) == "completed"
    sentences = transcript.sentences if completed else []
    if not query_form(request).boolean("WordTimestamps", default=False):
        sentences = [{**sentence, "words": None} for sentence in sentences]
    return JSONResponse(v2_page(request, "sentences", sentences, {}, max_size=5000))


def v2_page(
    request: Request, key: str, items: list[dict[str, Any]], filters: dict[str, str], max_size: int = 1000
) -> dict[str, Any]:
    """Twilio's v2 paging envelope (``meta``) around one page of ``items``."""
    page, size = page_params(request, max_size)
    url = f"{base_url(request)}{request.url.path}"

    def page_url(number: int) -> str:
        return f"{url}?{urlencode({**filters, 'PageSize': size, 'Page': number})}"

    start = page * size
    meta: dict[str, Any] = {
        "key": key,
        "page": page,
        "page_size": size,
        "first_page_url": page_url(0),
        "previous_page_url": page_url(page - 1) if page > 0 else None,
        "url": page_url(page),
        "next_page_url": page_url(page + 1) if start + size < len(items) else None,
    }
    return {key: items[start : start + size], "meta": meta}


def _channel(raw: str | None) -> dict[str, Any]:
    if raw is None:
        raise bad_request(20001, "Missing required parameter Channel in the post body")
    try:
        channel = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise bad_request(20001, f"Invalid Channel: not JSON ({exc})") from exc
    if not isinstance(channel, dict) or not isinstance(channel.get("media_properties", {}), dict):
        raise bad_request(20001, "Invalid Channel: expected an object with media_properties")
    return channel


def _find(sim: Simulator, request: Request, param: str) -> Transcript:
    sim.transcripts.transcribe_automatically(sim.calls.values(), sim.clock.now())
    transcript = sim.transcripts.by_sid.get(request.path_params[param])
    if transcript is None or transcript.account_sid != sim.config.account_sid:
        raise not_found(request.url.path)
    return transcript


ROUTES = [
    Route("/v2/Transcripts", create_transcript, methods=["POST"]),
    Route("/v2/Transcripts", list_transcripts, methods=["GET"]),
    Route("/v2/Transcripts/{Sid}", fetch_transcript, methods=["GET"]),
    Route("/v2/Transcripts/{Sid}", delete_transcript, methods=["DELETE"]),
    Route("/v2/Transcripts/{TranscriptSid}/Sentences", list_sentences, methods=["GET"]),
]
