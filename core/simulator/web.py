"""Request plumbing shared by the routes: HTTP Basic auth, form bodies, paging parameters."""

from __future__ import annotations

import base64
import binascii
import hmac
from urllib.parse import parse_qs

from starlette.requests import Request

from callboard.core.simulator.errors import authenticate, bad_request
from callboard.core.simulator.state import Simulator

_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def simulator(request: Request) -> Simulator:
    """The app's simulator."""
    sim: Simulator = request.app.state.simulator
    return sim


def authorize(request: Request) -> Simulator:
    """Check HTTP Basic credentials (account SID + auth token or API key + secret) and, when the path
    names an account, that it is the simulator's; raises 401/20003 otherwise."""
    sim = simulator(request)
    username, password = _basic_credentials(request.headers.get("authorization", ""))
    expected = sim.config.credentials().get(username)
    # compare_digest: the simulator may be shared on a network; don't leak the secret by timing.
    if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
        raise authenticate()
    account = request.path_params.get("AccountSid")
    if account is not None and account != sim.config.account_sid:
        raise authenticate()
    return sim


def _basic_credentials(header: str) -> tuple[str, str]:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    username, _, password = decoded.partition(":")
    return username, password


class Form:
    """A form-encoded body; a repeated key reads as its last value."""

    def __init__(self, values: dict[str, list[str]]) -> None:
        self._values = values

    def get(self, name: str) -> str | None:
        """The last value of ``name`` (None when absent or empty)."""
        values = self._values.get(name)
        return values[-1] if values and values[-1] != "" else None

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        """An integer parameter, clamped to [low, high] as Twilio clamps Timeout."""
        value = self.get(name)
        if value is None:
            return default
        try:
            return min(high, max(low, int(value)))
        except ValueError as exc:
            raise bad_request(20001, f"Invalid {name}: {value!r} is not an integer") from exc

    def boolean(self, name: str, *, default: bool = False) -> bool:
        """A boolean parameter ("true"/"false")."""
        value = self.get(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise bad_request(20001, f"Invalid {name}: {value!r} is not a boolean")


async def read_form(request: Request) -> Form:
    """The request body parsed as application/x-www-form-urlencoded."""
    try:
        body = (await request.body()).decode()
    except UnicodeDecodeError as exc:
        raise bad_request(20001, "The request body is not UTF-8") from exc
    return Form(parse_qs(body, keep_blank_values=True))


def query_form(request: Request) -> Form:
    """The query string, read like a form."""
    return Form(parse_qs(request.url.query, keep_blank_values=True))


def base_url(request: Request) -> str:
    """The simulator's own address as the client reached it, e.g. ``http://127.0.0.1:8765``."""
    return str(request.base_url).rstrip("/")


def page_params(request: Request, max_size: int) -> tuple[int, int]:
    """(page, page_size) from Page and PageSize (defaults 0 and 50)."""
    query = query_form(request)
    return query.integer("Page", 0, 0, 1_000_000), query.integer("PageSize", 50, 1, max_size)
