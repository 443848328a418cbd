"""The baseline every throughput figure is compared with: a bare asyncio + aiohttp loop sending the
benchmark's requests and doing its three checks inline, nothing else.

    python bench/bare_loop.py URL COUNT CONCURRENCY [uvloop]

Run as a script it is a whole process of its own (interpreter start and imports included), as
``callboard run --wait`` is; it prints ``<tests/s> <passed>``. With ``uvloop`` it runs on uvloop's event
loop, as the daemon does: the baseline with the same loop.
"""

from __future__ import annotations

import asyncio
import sys
import time

import aiohttp

PAYLOAD = {"message": "hello"}


async def bare_loop(url: str, count: int, concurrency: int) -> tuple[float, int]:
    """aiohttp at ``concurrency``, checks on status, the reply and latency; returns (tests/s, passed)."""
    passed = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal passed
            while not queue.empty():
                queue.get_nowait()
                started = time.perf_counter()
                async with session.post(f"{url}/chat", json=PAYLOAD) as response:
                    body = await response.json()
                latency_ms = (time.perf_counter() - started) * 1000
                if response.status == 200 and "help" in str(body.get("reply")) and latency_ms < 2000:
                    passed += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return count / elapsed, passed


if __name__ == "__main__":
    main = bare_loop(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
    if sys.argv[4:] == ["uvloop"]:
        import uvloop

        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            rate, ok = runner.run(main)
    else:
        rate, ok = asyncio.run(main)
    print(f"{rate:.1f} {ok}")
