"""Server-sent events, decoded as the HTML standard says ("Interpreting an event stream",
https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation): lines end
in CR LF, LF or CR; ``data:`` lines build an event's data, a blank line dispatches it; comments
(``:``) are keep-alives. Only the data is kept: every event of the daemon carries its id and type in it.
"""

from __future__ import annotations

import codecs


class SseDecoder:
    """Feed it the body's bytes as they come; it returns the data of each event completed."""

    def __init__(self) -> None:
        self._text = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._data: list[str] = []

    def feed(self, chunk: bytes) -> list[str]:
        """The data of the events that ``chunk`` completes (events with no data are skipped)."""
        text = self._pending + self._text.decode(chunk)
        # A CR at the very end may be the first half of CR LF: keep it for the next chunk.
        cut = len(text) - 1 if text.endswith("\r") else len(text)
        lines = text[:cut].replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._pending = lines.pop() + text[cut:]
        events: list[str] = []
        for line in lines:
            if not line:
                data = "\n".join(self._data)
                if data:
                    events.append(data)
                self._data = []
            elif line.startswith("data"):
                name, _, value = line.partition(":")
                if name == "data":
                    self._data.append(value.removeprefix(" "))
        return events
