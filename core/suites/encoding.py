"""Where a suite file stops being UTF-8 text, so the error can point at the line and byte."""

from __future__ import annotations

import codecs
from pathlib import Path

_CHUNK = 1 << 20
_BOMS = {
    codecs.BOM_UTF32_LE: "UTF-32",
    codecs.BOM_UTF32_BE: "UTF-32",
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
}


def not_utf8_message(path: Path) -> str:
    """'not UTF-8 text at line L (byte B): …', naming UTF-16/32 when the file starts with its mark."""
    line, offset, reason = _first_bad_byte(path)
    message = f"not UTF-8 text at line {line} (byte {offset}): {reason}"
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError:
        return message
    for bom, name in _BOMS.items():
        if head.startswith(bom):
            return f"{message}; the file is {name}: save it as UTF-8"
    return f"{message}; save the file as UTF-8"


def _first_bad_byte(path: Path) -> tuple[int, int, str]:
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, offset = 1, 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return line + chunk.count(b"\n", 0, exc.start), offset + exc.start, exc.reason
            line += chunk.count(b"\n")
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return line, offset, exc.reason
    return line, offset, "undecodable bytes"
