"""Webhooks' pure rules: the SSRF guard's address table, URLs, events, retries, signing."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from adapters.security.secret_box import AesGcmSecretBox, derive_key
from core.shared.errors import InvalidInput
from core.webhooks.guard import AddressRefused, check_addresses, parse_address, refusal
from core.webhooks.model import (
    DEFAULT_RETRY_SCHEDULE,
    RetryPolicy,
    SigningSecret,
    WebhookUrl,
    events_of,
    parse_schedule,
)
from core.webhooks.signing import event_body, signature, signed_headers
from entrypoints.settings import Settings


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("100.64.0.1", "CGNAT"),
        ("100.127.255.254", "CGNAT"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.1", "private"),  # TEST-NET-1, documentation
        ("198.18.0.1", "private"),  # benchmarking
        ("::ffff:127.0.0.1", "inside an IPv6"),
        ("::ffff:10.0.0.1", "inside an IPv6"),
        ("::ffff:169.254.169.254", "inside an IPv6"),
        ("64:ff9b::a9fe:a9fe", "inside an IPv6"),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", "inside an IPv6"),  # 6to4 of 127.0.0.1
    ],
)
def test_the_guard_refuses_non_public_addresses(address: str, reason: str) -> None:
    parsed = parse_address(address)
    assert parsed is not None
    found = refusal(parsed)
    assert found is not None
    assert reason in found


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "1.1.1.1", "8.8.8.8", "2606:4700:4700::1111", "::ffff:1.1.1.1"]
)
def test_the_guard_lets_public_addresses_through(address: str) -> None:
    parsed = parse_address(address)
    assert parsed is not None
    assert refusal(parsed) is None


def test_one_private_address_among_public_ones_refuses_the_host() -> None:
    with pytest.raises(AddressRefused, match="loopback"):
        check_addresses("rebind.example", ["1.1.1.1", "127.0.0.1"], allow_private=False)


def test_a_host_that_does_not_resolve_is_refused_even_when_private_ones_are_allowed() -> None:
    with pytest.raises(AddressRefused, match="does not resolve"):
        check_addresses("nowhere.example", [], allow_private=True)


def test_private_addresses_pass_when_allowed() -> None:
    check_addresses("localhost", ["127.0.0.1"], allow_private=True)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/", "https://"),
        ("javascript:alert(1)", "https://"),
        ("http://example.com/", "must use https"),
        ("https://user:pw@example.com/", "credentials"),
        ("https://user@example.com/", "credentials"),
        ("https:///nohost", "no host"),
        ("https://example.com:99999/", "not a valid URL"),
        ("https://exa mple.com/", "spaces"),
        ("https://example.com/a\nb", "spaces"),
        ("https://example.com/" + "a" * 2_000, "at most 2000"),
        ("https://[::1/", "not a valid URL"),
        ("not a url", "spaces"),
        ("https://example.com/#frag", "fragment"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        WebhookUrl.parse(url, allow_http=False)
    assert caught.value.field == "url"


def test_a_good_url_keeps_its_host_and_port() -> None:
    url = WebhookUrl.parse("https://Hooks.Example.com./in?x=1", allow_http=False)
    assert (url.host, url.port) == ("hooks.example.com", 443)
    assert WebhookUrl.parse("http://[::1]:8080/", allow_http=True).host == "::1"


def test_events_are_known_types_or_the_star_alone() -> None:
    assert events_of(["article.published", "article.published"]) == ("article.published",)
    assert events_of(["*"]) == ("*",)
    for bad in (["article.exploded"], [], ["*", "article.published"]):
        with pytest.raises(InvalidInput):
            events_of(bad)


def test_the_retry_schedule_grows_and_gives_up_after_its_last_step() -> None:
    middle = RetryPolicy(random=lambda: 0.5)  # no jitter
    waits = [middle.delay_after(n) for n in range(1, middle.max_attempts)]
    assert waits == [timedelta(seconds=s) for s in DEFAULT_RETRY_SCHEDULE]
    assert middle.delay_after(middle.max_attempts) is None
    assert middle.max_attempts == 7
    total = sum((w for w in waits if w is not None), timedelta())
    assert timedelta(hours=12) < total < timedelta(hours=30)  # "about a day"


def test_the_jitter_stays_within_a_fifth_of_each_step() -> None:
    low, high = RetryPolicy(random=lambda: 0.0), RetryPolicy(random=lambda: 0.999999)
    assert low.delay_after(2) == timedelta(seconds=240)
    high_wait = high.delay_after(2)
    assert high_wait is not None
    assert timedelta(seconds=359) < high_wait <= timedelta(seconds=360)


def test_a_schedule_setting_is_seconds_not_decreasing() -> None:
    assert parse_schedule("0.5, 1,2") == (0.5, 1.0, 2.0)
    for bad in ("", "a,b", "5,1", "-1"):
        with pytest.raises(ValueError, match="must"):
            parse_schedule(bad)


def test_signatures_verify_with_the_standardwebhooks_package() -> None:
    secret = SigningSecret.new()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    at = datetime.now(UTC)
    body = event_body("article.published", at, {"slug": "how-to", "v": 1}).encode()
    headers = signed_headers([SigningSecret.key_of(secret)], "msg_1", int(at.timestamp()), body)
    verified = StandardWebhook(secret).verify(body, headers)
    assert verified["type"] == "article.published"
    assert verified["data"] == {"slug": "how-to", "v": 1}
    assert json.loads(body)["timestamp"].endswith("Z")
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(SigningSecret.new()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(secret).verify(body + b" ", headers)


def test_during_a_rotation_both_secrets_sign() -> None:
    old, new = SigningSecret.new(), SigningSecret.new()
    now = int(datetime.now(UTC).timestamp())
    keys = [SigningSecret.key_of(new), SigningSecret.key_of(old)]
    headers = signed_headers(keys, "msg_2", now, b"{}")
    assert headers["webhook-signature"].count("v1,") == 2
    for secret in (old, new):
        StandardWebhook(secret).verify(b"{}", headers)


def test_the_signature_is_hmac_sha256_of_id_timestamp_body() -> None:
    # The Standard Webhooks specification's example (its secret, id, timestamp and body).
    key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected


def test_sealed_secrets_open_only_with_their_key() -> None:
    box = AesGcmSecretBox(derive_key("a" * 40))
    sealed = box.seal("whsec_abc")
    assert "whsec_abc" not in sealed
    assert box.open(sealed) == "whsec_abc"
    assert box.seal("whsec_abc") != sealed  # a fresh nonce each time
    with pytest.raises(ValueError, match="does not open"):
        AesGcmSecretBox(derive_key("b" * 40)).open(sealed)
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(ValueError, match="does not open"):
        box.open(tampered)


def test_private_webhook_targets_are_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="WEBHOOK_ALLOW_PRIVATE=true is for tests"):
        Settings(environment="production", secret_key="p" * 40, webhook_allow_private=True)
    assert Settings(environment="development", webhook_allow_private=True).webhook_allow_private


def test_the_worker_is_embedded_unless_redis_carries_the_queue() -> None:
    assert Settings(database_url="sqlite:///x.db").webhook_worker_embedded
    assert not Settings(
        database_url="sqlite:///x.db", redis_url="redis://r"
    ).webhook_worker_embedded
    assert Settings(database_url="memory://", redis_url="redis://r").webhook_worker_embedded
    with pytest.raises(ValidationError, match="needs REDIS_URL"):
        Settings(webhook_worker="external")
