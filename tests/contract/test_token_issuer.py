"""TokenIssuer contract, held by the real JoseTokenIssuer (there is no fake).

Forged tokens are built by hand (base64url + HMAC) from a genuine one, changing only what a
test is about; `test_a_genuine_token_re_signed_unchanged_is_accepted` shows that the forging
itself yields acceptable tokens, so every rejection below is for the change made.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from adapters.security.tokens import MAX_TOKEN_LENGTH, JoseTokenIssuer
from core.auth.errors import InvalidToken
from core.shared.ids import UserId, new_user_id
from tests.fakes.clock import FakeClock

SECRET = "contract-test-secret-that-is-at-least-32-bytes-long"
OTHER_SECRET = "another-secret-that-is-also-at-least-32-bytes-long"
TTL = timedelta(minutes=15)
LEEWAY_S = 30

Digest = Callable[[], Any]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def issuer(clock: FakeClock) -> JoseTokenIssuer:
    return JoseTokenIssuer(SECRET, TTL, clock, leeway_s=LEEWAY_S)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def decode_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return json.loads(unb64(header)), json.loads(unb64(payload))


def sign(
    header: dict[str, Any],
    claims: dict[str, Any],
    *,
    secret: str = SECRET,
    digest: Digest = hashlib.sha256,
) -> str:
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), signing_input.encode(), digest).digest()
    return signing_input + "." + b64(signature)


def resign(
    token: str,
    *,
    header: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    secret: str = SECRET,
    digest: Digest = hashlib.sha256,
) -> str:
    """The token with header fields and claims changed or dropped, signed again."""
    old_header, old_claims = decode_parts(token)
    new_claims = {k: v for k, v in {**old_claims, **(claims or {})}.items() if k not in drop}
    return sign({**old_header, **(header or {})}, new_claims, secret=secret, digest=digest)


def reject(issuer: JoseTokenIssuer, token: str) -> None:
    with pytest.raises(InvalidToken):
        issuer.verify(token)


# --- what a genuine token gives back --------------------------------------------------------


def test_verify_returns_the_user_id_and_version_of_an_issued_token(
    issuer: JoseTokenIssuer,
) -> None:
    user_id = new_user_id()

    claims = issuer.verify(issuer.issue(user_id, version=7))

    assert (claims.user_id, claims.version) == (user_id, 7)


def test_verify_accepts_a_token_of_another_issuer_instance_with_the_same_secret(
    issuer: JoseTokenIssuer, clock: FakeClock
) -> None:
    user_id = new_user_id()
    token = JoseTokenIssuer(SECRET, TTL, clock, leeway_s=LEEWAY_S).issue(user_id)

    assert issuer.verify(token).user_id == user_id


def test_a_genuine_token_re_signed_unchanged_is_accepted(issuer: JoseTokenIssuer) -> None:
    user_id = new_user_id()

    assert issuer.verify(resign(issuer.issue(user_id))).user_id == user_id


# --- time -------------------------------------------------------------------------------------


def test_verify_accepts_a_token_until_it_expires(issuer: JoseTokenIssuer, clock: FakeClock) -> None:
    user_id = new_user_id()
    token = issuer.issue(user_id)

    clock.advance(TTL.total_seconds() - 1)

    assert issuer.verify(token).user_id == user_id


def test_verify_accepts_an_expired_token_within_the_leeway(
    issuer: JoseTokenIssuer, clock: FakeClock
) -> None:
    user_id = new_user_id()
    token = issuer.issue(user_id)

    clock.advance(TTL.total_seconds() + LEEWAY_S - 1)

    assert issuer.verify(token).user_id == user_id


def test_verify_rejects_a_token_expired_beyond_the_leeway(
    issuer: JoseTokenIssuer, clock: FakeClock
) -> None:
    token = issuer.issue(new_user_id())

    clock.advance(TTL.total_seconds() + LEEWAY_S + 1)

    reject(issuer, token)


def test_issue_with_a_ttl_overrides_the_default_lifetime(
    issuer: JoseTokenIssuer, clock: FakeClock
) -> None:
    short = issuer.issue(new_user_id(), ttl=timedelta(minutes=1))
    default = issuer.issue(new_user_id())

    clock.advance(60 + LEEWAY_S + 1)

    reject(issuer, short)
    issuer.verify(default)


def test_verify_rejects_a_token_issued_in_the_future_beyond_the_leeway(
    issuer: JoseTokenIssuer, clock: FakeClock
) -> None:
    ahead = FakeClock(clock.now() + timedelta(seconds=LEEWAY_S + 60))
    token = JoseTokenIssuer(SECRET, TTL, ahead, leeway_s=LEEWAY_S).issue(new_user_id())

    reject(issuer, token)


def test_verify_accepts_a_token_issued_in_the_future_within_the_leeway(
    issuer: JoseTokenIssuer, clock: FakeClock
) -> None:
    user_id = new_user_id()
    ahead = FakeClock(clock.now() + timedelta(seconds=LEEWAY_S - 5))
    token = JoseTokenIssuer(SECRET, TTL, ahead, leeway_s=LEEWAY_S).issue(user_id)

    assert issuer.verify(token).user_id == user_id


@pytest.mark.parametrize("claim", ["iat", "nbf"])
def test_verify_rejects_a_token_when_a_time_claim_is_in_the_future(
    issuer: JoseTokenIssuer, clock: FakeClock, claim: str
) -> None:
    future = int(clock.now().timestamp()) + LEEWAY_S + 60

    reject(issuer, resign(issuer.issue(new_user_id()), claims={claim: future}))


# --- keys and algorithms -----------------------------------------------------------------------


def test_verify_rejects_a_token_of_an_issuer_with_another_secret(
    issuer: JoseTokenIssuer, clock: FakeClock
) -> None:
    foreign = JoseTokenIssuer(OTHER_SECRET, TTL, clock, leeway_s=LEEWAY_S)

    reject(issuer, foreign.issue(new_user_id()))


def test_verify_rejects_a_genuine_token_re_signed_with_another_secret(
    issuer: JoseTokenIssuer,
) -> None:
    reject(issuer, resign(issuer.issue(new_user_id()), secret=OTHER_SECRET))


def test_verify_rejects_a_payload_changed_after_signing(issuer: JoseTokenIssuer) -> None:
    header, payload, signature = issuer.issue(new_user_id()).split(".")
    claims = json.loads(unb64(payload))
    claims["sub"] = str(new_user_id())

    reject(issuer, ".".join((header, b64(json.dumps(claims).encode()), signature)))


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
def test_verify_rejects_an_unsigned_token(issuer: JoseTokenIssuer, alg: str) -> None:
    header, claims = decode_parts(issuer.issue(new_user_id()))
    unsigned = (
        b64(json.dumps({**header, "alg": alg}).encode()) + "." + b64(json.dumps(claims).encode())
    )

    reject(issuer, unsigned + ".")
    reject(issuer, unsigned)


@pytest.mark.parametrize(
    ("alg", "digest"),
    [("HS384", hashlib.sha384), ("HS512", hashlib.sha512)],
    ids=["HS384", "HS512"],
)
def test_verify_rejects_another_algorithm_even_with_the_right_secret(
    issuer: JoseTokenIssuer, alg: str, digest: Digest
) -> None:
    token = resign(issuer.issue(new_user_id()), header={"alg": alg}, digest=digest)

    reject(issuer, token)


# --- claims ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "claims",
    [{"iss": "someone-else"}, {"aud": "someone-else"}, {"aud": ["someone-else"]}],
    ids=["iss", "aud", "aud-list"],
)
def test_verify_rejects_a_token_for_another_issuer_or_audience(
    issuer: JoseTokenIssuer, claims: dict[str, Any]
) -> None:
    reject(issuer, resign(issuer.issue(new_user_id()), claims=claims))


def test_verify_rejects_a_token_of_an_issuer_configured_for_another_audience(
    issuer: JoseTokenIssuer, clock: FakeClock
) -> None:
    other = JoseTokenIssuer(SECRET, TTL, clock, audience="another-app", leeway_s=LEEWAY_S)

    reject(issuer, other.issue(new_user_id()))


@pytest.mark.parametrize("claim", ["sub", "iat", "nbf", "exp", "iss", "aud", "ver"])
def test_verify_rejects_a_token_missing_a_claim(issuer: JoseTokenIssuer, claim: str) -> None:
    reject(issuer, resign(issuer.issue(new_user_id()), drop=(claim,)))


@pytest.mark.parametrize(
    "claims",
    [
        {"sub": "not-a-uuid"},
        {"sub": 42},
        {"exp": "tomorrow"},
        {"iat": None},
        {"ver": "1"},
        {"ver": True},
    ],
    ids=["sub-text", "sub-number", "exp-text", "iat-null", "ver-text", "ver-bool"],
)
def test_verify_rejects_a_token_with_a_malformed_claim(
    issuer: JoseTokenIssuer, claims: dict[str, Any]
) -> None:
    reject(issuer, resign(issuer.issue(new_user_id()), claims=claims))


# --- shape ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "a.b.c", "a.b", "a.b.c.d.e", "ü.ü.ü", "...", "Token abc"],
)
def test_verify_rejects_garbage(issuer: JoseTokenIssuer, token: str) -> None:
    reject(issuer, token)


@pytest.mark.parametrize(
    "mangle",
    [lambda t: t + "x", lambda t: t[:-1], lambda t: t + ".", lambda t: " " + t],
    ids=["appended", "truncated", "extra-part", "leading-space"],
)
def test_verify_rejects_a_mangled_genuine_token(
    issuer: JoseTokenIssuer, mangle: Callable[[str], str]
) -> None:
    reject(issuer, mangle(issuer.issue(new_user_id())))


def test_verify_rejects_an_oversized_token_even_when_correctly_signed(
    issuer: JoseTokenIssuer,
) -> None:
    genuine = issuer.issue(new_user_id())
    oversized = resign(genuine, claims={"pad": "x" * MAX_TOKEN_LENGTH})
    just_below = resign(genuine, claims={"pad": "x" * (MAX_TOKEN_LENGTH // 2)})
    assert len(oversized) > MAX_TOKEN_LENGTH >= len(just_below)

    reject(issuer, oversized)
    issuer.verify(just_below)  # the size, not the extra claim, is what fails


def test_issued_tokens_are_well_under_the_size_limit(issuer: JoseTokenIssuer) -> None:
    token = issuer.issue(UserId(uuid.UUID(int=2**128 - 1)), version=2**31)

    assert len(token) < MAX_TOKEN_LENGTH // 4


def test_a_token_verified_once_still_expires(issuer: JoseTokenIssuer, clock: FakeClock) -> None:
    user_id = new_user_id()
    token = issuer.issue(user_id)
    assert issuer.verify(token).user_id == user_id  # its signature is now remembered

    clock.advance(TTL.total_seconds() + LEEWAY_S + 1)

    reject(issuer, token)


def test_a_token_verified_once_does_not_vouch_for_an_altered_copy(
    issuer: JoseTokenIssuer,
) -> None:
    token = issuer.issue(new_user_id())
    issuer.verify(token)
    header, payload, signature = token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]

    reject(issuer, f"{header}.{payload}.{flipped}")
    reject(issuer, f"{header}.{payload}.")


# --- what a remembered token still goes through (issue 10) ------------------------------------


def test_a_remembered_token_is_judged_against_the_clock_as_a_fresh_one_is(
    clock: FakeClock,
) -> None:
    """A token once accepted is remembered with what cannot change; its exp, nbf and iat are
    still compared with the clock on every use, with joserfc's own bounds: at every second
    around each bound, the remembering issuer and a fresh one give the same verdict."""
    remembering = JoseTokenIssuer(SECRET, TTL, clock, leeway_s=LEEWAY_S)
    genuine = remembering.issue(new_user_id())
    issued = int(clock.now().timestamp())
    soon = resign(genuine, claims={"nbf": issued + 20, "iat": issued + 10})  # within leeway
    ttl = int(TTL.total_seconds())
    offsets = [
        *range(-LEEWAY_S - 25, -LEEWAY_S + 25),  # nbf/iat bounds (clock set back)
        *range(ttl + LEEWAY_S - 3, ttl + LEEWAY_S + 3),  # exp bound
    ]
    verdicts: dict[bool, list[bool]] = {True: [], False: []}
    for token in (genuine, soon):
        assert remembering.verify(token)  # both remembered now
        for offset in offsets:
            at = FakeClock(clock.now() + timedelta(seconds=offset))
            remembering._clock = at  # the same instance, its clock moved
            fresh = JoseTokenIssuer(SECRET, TTL, at, leeway_s=LEEWAY_S)
            for issuer, verdict in ((remembering, verdicts[True]), (fresh, verdicts[False])):
                try:
                    issuer.verify(token)
                    verdict.append(True)
                except InvalidToken:
                    verdict.append(False)
        remembering._clock = clock

    assert verdicts[True] == verdicts[False]
    assert True in verdicts[True]  # both sides of each bound
    assert False in verdicts[True]


def test_a_token_refused_for_its_time_is_not_remembered_as_refused(clock: FakeClock) -> None:
    issuer = JoseTokenIssuer(SECRET, TTL, clock, leeway_s=LEEWAY_S)
    user_id = new_user_id()
    early = resign(issuer.issue(user_id), claims={"nbf": int(clock.now().timestamp()) + 90})
    reject(issuer, early)

    clock.advance(90)

    assert issuer.verify(early).user_id == user_id


def test_the_tokens_remembered_are_bounded(
    issuer: JoseTokenIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import adapters.security.tokens as tokens

    monkeypatch.setattr(tokens, "VERIFIED_TOKENS_REMEMBERED", 3)
    first, *others = [issuer.issue(new_user_id()) for _ in range(5)]
    for token in (first, *others):
        issuer.verify(token)

    assert len(issuer._verified) == 3
    assert first not in issuer._verified  # the oldest went first
    issuer.verify(first)  # and is checked in full again
