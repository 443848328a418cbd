"""An OpenAI-compatible ``POST /v1/audio/transcriptions`` that recognises audio the simulator produced.

It stands in for a transcription provider (the shape of
https://platform.openai.com/docs/api-reference/audio/createTranscription: multipart ``file`` and
``model``; answers ``{"text": ...}``) the way the simulator's Voice Intelligence transcripts stand in for
Twilio's: it knows what its own Media Streams agent said, and finds those utterances in the uploaded
audio (a cut-off utterance gives its first words in proportion). Anything else transcribes to "".
"""

from __future__ import annotations

from email.message import Message
from email.parser import BytesParser

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callboard.core.simulator.media_streams import voice_registry
from callboard.core.voice import mulaw
from callboard.core.voice.resample import resample
from callboard.core.voice.wav import pcm_of_wav

MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # OpenAI's own limit


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": {"message": message, "type": "invalid_request_error"}}, status_code=status)


def _multipart_file(content_type: str, body: bytes) -> bytes | None:
    message = BytesParser().parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    if not message.is_multipart():
        return None
    for part in message.get_payload():
        assert isinstance(part, Message)
        if part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else None
    return None


async def _transcriptions(request: Request) -> Response:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return _error(400, "send multipart/form-data with a 'file' part")
    body = await request.body()
    if len(body) > MAX_UPLOAD_BYTES:
        return _error(413, "file too large")
    audio = _multipart_file(content_type, body)
    if audio is None:
        return _error(400, "no 'file' part")
    try:
        pcm, rate = pcm_of_wav(audio)
    except ValueError as exc:
        return _error(400, f"unsupported audio: {exc}")
    ulaw = mulaw.encode(resample(pcm.astype(np.int16), rate, mulaw.SAMPLE_RATE))
    return JSONResponse({"text": voice_registry(request.app).transcribe(ulaw)})


ROUTES = [Route("/v1/audio/transcriptions", _transcriptions, methods=["POST"])]
