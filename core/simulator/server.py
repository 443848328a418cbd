"""Serving the simulator: in the foreground, in a background thread, or in a child process."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from callboard.core.simulator.app import create_app
from callboard.core.simulator.config import SimulatorConfig

DEFAULT_PORT = 8710


def run_simulator(
    host: str = "127.0.0.1", port: int = DEFAULT_PORT, config: SimulatorConfig | None = None
) -> None:
    """Serve the simulator until SIGINT/SIGTERM; prints the address it listens on (port 0 picks one)."""
    config = config or SimulatorConfig()
    sock = _listen(host, port)
    print(
        f"telephony simulator listening on {_url(sock)} "
        f"(time scale {config.time_scale:g}, account {config.account_sid})",
        flush=True,
    )
    _server(config).run(sockets=[sock])


@contextmanager
def simulator_thread(
    config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
    """Run the simulator in a background thread of this process; yield its base URL; stop it on exit."""
    sock = _listen(host, port)
    server = _server(config or SimulatorConfig())
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        # The socket already listens, so requests made before uvicorn runs wait in the backlog.
        yield _url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def simulator_process(
    config: SimulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[str]:
    """Start ``python -m callboard.core.simulator`` (port 0 picks a free one); yield its base URL; stop
    it on exit. The config goes to the child on stdin, so its secrets never show in a process list."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "callboard.core.simulator",
            "--host",
            host,
            "--port",
            str(port),
            "--config",
            "-",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write((config or SimulatorConfig()).to_json())
        process.stdin.close()
        line = process.stdout.readline()  # "telephony simulator listening on http://HOST:PORT (...)"
        if "listening on " not in line:
            raise RuntimeError(f"the telephony simulator did not start: {line.strip() or 'no output'}")
        yield line.split("listening on ")[1].split()[0]
    finally:
        process.terminate()
        process.wait(timeout=10)


def _server(config: SimulatorConfig) -> uvicorn.Server:
    # No access log: a CPS benchmark would spend more time logging requests than answering them.
    return uvicorn.Server(
        uvicorn.Config(create_app(config), log_level="warning", access_log=False, lifespan="off")
    )


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket, bound before the server runs so port 0 can be reported at once."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: without it small responses stall ~40 ms on delayed ACKs.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
