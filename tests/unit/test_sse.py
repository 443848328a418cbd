"""Server-sent events decoded as the HTML standard says, whatever the chunks' boundaries."""

from __future__ import annotations

from callboard.core.client.sse import SseDecoder

STREAM = (
    b": keep-alive\n\n"
    b'id: 7\nevent: batch.progress\ndata: {"a":\n'
    b"data: 1}\n\n"
    b"data:no space\r\n\r\n"
    b"data: caf\xc3\xa9\r\r"
    b"data\n\n"
    b"retry: 100\n\n"
)
EXPECTED = ['{"a":\n1}', "no space", "café"]


def test_whole_stream() -> None:
    assert SseDecoder().feed(STREAM) == EXPECTED


def test_every_split_point_gives_the_same_events() -> None:
    for cut in range(len(STREAM) + 1):
        decoder = SseDecoder()
        assert decoder.feed(STREAM[:cut]) + decoder.feed(STREAM[cut:]) == EXPECTED, cut


def test_byte_by_byte() -> None:
    decoder = SseDecoder()
    events = [data for index in range(len(STREAM)) for data in decoder.feed(STREAM[index : index + 1])]
    assert events == EXPECTED


def test_an_event_without_its_blank_line_is_not_dispatched_yet() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b"data: half") == []
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"\n") == ["half"]
