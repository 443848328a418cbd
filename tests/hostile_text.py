"""User data that looks like Rich/Textual markup, emoji codes and a 10 kB line, in a suite that runs on a
real daemon: the CLI and TUI tests put it through every command and screen and look for it verbatim.

The chat agent is a stand-in for a user's agent (an outside service): a plain HTTP server on an ephemeral
port that answers every message with ``REPLY``, as a chat API answers ``{"reply": ...}``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# A reply that reads as a Rich link and a closing tag: it crashed the TUI's run view and Simulations.
REPLY = "Sure! [Book now](https://x) or type [/help]"
# Test names (at most 200 characters, one line) that markup would eat or choke on.
SMOKE = "[smoke] greeting"
GUARD = "[/INST] guard"
EMOJI = r"emoji 🦜 :smile: \[x] [link=https://evil.example]click[/link]"
LONG = "long [/x] line"
UNREACHABLE = "unreachable [bold]api[/bold]"
# Printed by a command, compared by checks.
PRINTED = r"[/x] [bold]printed[/bold] \[ 🦜 :thumbs_up:"
# Exactly 10,000 characters on one line, with closing tags that would stop a markup parser.
LONG_LINE = ("[bold]10kB[/] [/x] \\[ 🦜 [link=https://evil.example]l[/link] " * 200)[:10_000]
LABEL = "[red]nightly[/x] 🦜"
SCHEDULE = "[nightly] [/x] :smile:"
TAG = "[twilio]"
# Everything the screens and commands must show as it is (besides the names).
NAMES = (SMOKE, GUARD, EMOJI, LONG, UNREACHABLE)
# A command test that keeps running, so its name shows among the running runs.
SLEEPER = "[slow] [/x] sleeper :hourglass:"
SLEEPER_TEST = {"name": SLEEPER, "kind": "command", "command": "sleep 30", "timeout_s": 60}


def suite(agent_url: str) -> list[dict[str, Any]]:
    """The hostile tests, in suite form, against the chat agent at ``agent_url``."""
    return [
        {
            "name": SMOKE,
            "kind": "command",
            "tags": [TAG, "smoke"],
            "command": f"echo '{PRINTED}'",
            "checks": [{"exit_code": 0}, {"contains": "[/x]"}, {"not_contains": "[/INST]"}],
        },
        {
            "name": GUARD,
            "kind": "conversation",
            "tags": [TAG],
            "endpoint": {"url": f"{agent_url}/chat", "reply": "$.reply"},
            "turns": [
                {"say": "I'd like to book [/INST]", "expect": [{"not_contains": "[/INST]"}]},
                {"say": "[bold]when?", "expect": [{"contains": "[/nope]"}]},
            ],
        },
        {
            "name": EMOJI,
            "kind": "command",
            "tags": ["smoke"],
            "command": "echo fine",
            "checks": [{"contains": "fine"}],
        },
        {
            "name": LONG,
            "kind": "command",
            "command": "echo short",
            "checks": [{"contains": LONG_LINE}],
        },
        {
            "name": UNREACHABLE,
            "kind": "http",
            "retries": 0,
            "request": {"url": "http://127.0.0.1:9/[bold]x[/x]"},
            "checks": [{"status": 200}],
        },
    ]


class _ChatHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps({"reply": REPLY}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextmanager
def chat_agent() -> Iterator[str]:
    """A chat agent that answers ``REPLY`` to everything, on a free port; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ChatHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
