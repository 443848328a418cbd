"""Notification settings: defaults, validation, and secrets kept out of dumps and error messages."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from callboard.core.notify.settings import CommandHookSettings, EmailSettings, NotifySettings, WebhookSettings

TOKEN_URL = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"


class _Parent(BaseModel):
    # Stands in for the main Settings, which embeds these as `notify`. Pydantic quotes rejected input by the
    # outermost model's config, so Settings needs hide_input_in_errors too.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    notify: NotifySettings


def _email(**overrides: object) -> dict[str, object]:
    return {"host": "smtp.example.com", "from_addr": "cb@example.com", "to": ["qa@example.com"], **overrides}


def test_defaults() -> None:
    settings = NotifySettings()
    assert (settings.when, settings.retries, settings.retry_base_s, settings.retry_max_s) == (
        "failure",
        4,
        1.0,
        60.0,
    )
    assert settings.webhooks == [] and settings.email is None and settings.commands == []
    email = EmailSettings.model_validate(_email())
    assert (email.port, email.starttls, email.verify_tls, email.when) == (587, True, True, None)
    assert WebhookSettings(url=TOKEN_URL).format == "json"  # type: ignore[arg-type]


def test_secrets_are_masked_in_dumps_and_repr() -> None:
    settings = NotifySettings.model_validate(
        {"webhooks": [{"url": TOKEN_URL}], "email": _email(username="u", password="pw-123456")}
    )
    shown = f"{settings!r} {settings.model_dump(mode='json')} {settings.model_dump_json()}"
    assert "XXXXsecretXXXX" not in shown and "pw-123456" not in shown
    assert settings.webhooks[0].host == "hooks.slack.com"


@pytest.mark.parametrize(
    "url",
    ["ftp://hooks.example.com/XXXXsecretXXXX", "hooks.example.com/XXXXsecretXXXX", "https:///XXXXsecretXXXX"],
)
def test_a_bad_webhook_url_is_refused_without_quoting_it(url: str) -> None:
    data = {"webhooks": [{"url": url}]}
    for model, value in ((NotifySettings, data), (_Parent, {"notify": data})):
        with pytest.raises(ValidationError) as caught:
            model.model_validate(value)
        assert "http:// or https://" in str(caught.value)
        assert "XXXXsecretXXXX" not in str(caught.value)


def test_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError, match="extra"):
        NotifySettings.model_validate({"webhook": []})
    with pytest.raises(ValidationError, match="extra"):
        WebhookSettings.model_validate({"url": TOKEN_URL, "secret": "x"})


def test_credentials_need_each_other_and_starttls() -> None:
    with pytest.raises(ValidationError, match="go together"):
        EmailSettings.model_validate(_email(username="u"))
    with pytest.raises(ValidationError, match="starttls"):
        EmailSettings.model_validate(_email(username="u", password="p", starttls=False))
    assert EmailSettings.model_validate(_email(starttls=False, port=25)).username is None


def test_email_addresses_are_checked() -> None:
    with pytest.raises(ValidationError):
        EmailSettings.model_validate(_email(to=[]))
    with pytest.raises(ValidationError, match=r"to\.1\n  String should match pattern"):
        EmailSettings.model_validate(_email(to=["qa@example.com", "nobody"]))
    with pytest.raises(ValidationError, match="from_addr"):
        EmailSettings.model_validate(_email(from_addr="callboard"))


def test_policies_are_checked() -> None:
    with pytest.raises(ValidationError):
        NotifySettings.model_validate({"when": "sometimes"})
    with pytest.raises(ValidationError, match="retry_max_s"):
        NotifySettings(retry_base_s=10, retry_max_s=5)


def test_a_command_must_split_into_a_program() -> None:
    assert CommandHookSettings(command="notify-send 'batch done' --urgency=low").argv == [
        "notify-send",
        "batch done",
        "--urgency=low",
    ]
    with pytest.raises(ValidationError, match="cannot be split"):
        CommandHookSettings(command="echo 'unbalanced")
    with pytest.raises(ValidationError, match="names no program"):
        CommandHookSettings(command="   ")
