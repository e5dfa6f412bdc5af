"""OIDC_PROVIDERS and OIDC_REDIRECT_ALLOWLIST: what starts, and the one line for what does not."""

from __future__ import annotations

import json
from typing import Any

import pytest

from entrypoints.settings import ConfigurationError, load_settings

GOOD: dict[str, Any] = {
    "id": "acme",
    "issuer": "https://id.acme.example",
    "client_id": "conduit",
    "client_secret": "s3cret",
}


def test_providers_are_read_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "OIDC_PROVIDERS",
        json.dumps([GOOD, {**GOOD, "id": "local", "issuer": "http://127.0.0.1:9000",
                           "scopes": ["openid"], "trusted_email_domains": ["Acme.Example"]}]),
    )  # fmt: skip
    monkeypatch.setenv(
        "OIDC_REDIRECT_ALLOWLIST", "https://app.example/cb, http://localhost:3000/cb"
    )

    settings = load_settings()

    acme, local = settings.oidc_providers
    assert acme.scopes == ("openid", "email", "profile")
    assert acme.client_secret.get_secret_value() == "s3cret"
    assert local.trusted_email_domains == ("acme.example",)
    assert settings.oidc_redirect_list == {"https://app.example/cb", "http://localhost:3000/cb"}
    hash(settings)  # the tests keep one app per Settings


@pytest.mark.parametrize(
    ("providers", "says"),
    [
        ([{**GOOD, "id": "Has Space"}], "provider id"),
        ([{**GOOD, "issuer": "http://id.acme.example"}], "must use https"),
        ([{**GOOD, "issuer": "id.acme.example"}], "absolute https URL"),
        ([{**GOOD, "scopes": ["email"]}], "openid"),
        ([{**GOOD, "trusted_email_domains": ["not a domain"]}], "not a domain name"),
        ([GOOD, GOOD], "unique"),
        ([{**GOOD, "client_secret": None}], "CLIENT_SECRET"),
        ([{**GOOD, "surprise": 1}], "SURPRISE"),
    ],
)
def test_a_bad_provider_stops_the_start_with_one_line(
    monkeypatch: pytest.MonkeyPatch, providers: list[dict[str, Any]], says: str
) -> None:
    monkeypatch.setenv("OIDC_PROVIDERS", json.dumps(providers))

    with pytest.raises(ConfigurationError) as caught:
        load_settings()

    assert says in str(caught.value)
    assert "s3cret" not in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "allowlist", ["app.example/cb", "http://app.example/cb", "https://app.example/cb#x"]
)
def test_a_bad_redirect_uri_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, allowlist: str
) -> None:
    monkeypatch.setenv("OIDC_REDIRECT_ALLOWLIST", allowlist)

    with pytest.raises(ConfigurationError, match="OIDC_REDIRECT_ALLOWLIST"):
        load_settings()
