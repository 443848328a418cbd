"""Twilio's error bodies: ``{"code", "message", "more_info", "status"}``."""

from __future__ import annotations

from starlette.responses import JSONResponse


class TwilioError(Exception):
    """An error answered the way Twilio answers it."""

    def __init__(self, status: int, code: int, message: str, details: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def response(self) -> JSONResponse:
        """The JSON response for this error."""
        body: dict[str, object] = {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }
        if self.details:
            body["details"] = self.details
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if self.status == 401 else None
        return JSONResponse(body, status_code=self.status, headers=headers)


def not_found(path: str) -> TwilioError:
    """20404, worded as Twilio words it."""
    return TwilioError(404, 20404, f"The requested resource {path} was not found")


def authenticate() -> TwilioError:
    """20003: missing or wrong credentials."""
    return TwilioError(401, 20003, "Authenticate")


def too_many_requests(why: str) -> TwilioError:
    """20429: over the CPS or the concurrent-calls cap."""
    return TwilioError(429, 20429, "Too Many Requests", details={"reason": why})


def bad_request(code: int, message: str) -> TwilioError:
    """A 400 with a Twilio code (21201 no To, 21213 no From, 20001 bad parameter, ...)."""
    return TwilioError(400, code, message)
