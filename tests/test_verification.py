"""webhook.verification: every Alexa request check, both ways, offline."""

from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import EnvironHeaders

from webhook.verification import (
    HttpFetcher,
    VerificationError,
    Verifier,
    check_cert_url,
    check_timestamp,
    client_key,
)
from skill.appid import WrongApplication, check_application_id, parse_skill_ids
from testkit.alexa_certs import (
    CERT_URL,
    OTHER_SKILL_ID,
    SKILL_ID,
    chain_pem,
    default_pki,
    envelope_body,
    iso_timestamp,
    make_ca,
    make_envelope,
    make_leaf,
    make_pki,
    rsa_key,
    signed_headers,
    signed_request,
    utcnow,
)

CANONICAL_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class CountingFetcher:
    """Serves one PEM (or raises one error) and records every URL asked for."""

    def __init__(self, result: bytes | Exception, delay: float = 0.0) -> None:
        self.result = result
        self.delay = delay
        self.calls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.calls.append(url)
        time.sleep(self.delay)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_verifier(
    clock: FakeClock, pem: bytes | Exception | None = None, **options: Any
) -> tuple[Verifier, CountingFetcher]:
    fetcher = CountingFetcher(default_pki().pem if pem is None else pem)
    options.setdefault("trust_roots", default_pki().trust_roots)
    return Verifier([SKILL_ID], clock=clock, fetcher=fetcher, **options), fetcher


def good_request(clock: FakeClock, **envelope_options: Any) -> tuple[dict[str, str], bytes, dict]:
    envelope = make_envelope(clock(), **envelope_options)
    headers, body = signed_request(envelope)
    return headers, body, envelope


def refused(verifier: Verifier, headers: Any, body: Any, envelope: Any, client: str | None = None) -> str:
    with pytest.raises(VerificationError) as info:
        verifier.verify(headers, body, envelope, client)
    return info.value.reason


# --- the happy path ----------------------------------------------------------


def test_good_request_passes(clock: FakeClock) -> None:
    verifier, fetcher = make_verifier(clock)
    verifier.verify(*good_request(clock))
    assert fetcher.calls == [CERT_URL]


def test_body_bytes_not_reencoded_json_are_checked(clock: FakeClock) -> None:
    """Same JSON, different bytes: only the signed bytes pass."""
    verifier, _ = make_verifier(clock)
    headers, body, envelope = good_request(clock)
    verifier.verify(headers, body, envelope)
    respelled = json.dumps(envelope, indent=1).encode()
    assert json.loads(respelled) == envelope
    assert refused(verifier, headers, respelled, envelope) == "signature mismatch"


# --- SignatureCertChainUrl ---------------------------------------------------

VALID_URLS = [
    "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
    "https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem",
    "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem",
    "HTTPS://S3.AMAZONAWS.COM/echo.api/echo-api-cert.pem",
    "hTTpS://s3.AmazonAWS.com:443/echo.api/./echo-api-cert.pem",
]

DOCUMENTED_INVALID_URLS = [
    "http://s3.amazonaws.com/echo.api/echo-api-cert.pem",
    "https://notamazon.com/echo.api/echo-api-cert.pem",
    "https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem",
    "https://s3.amazonaws.com/invalid.path/echo-api-cert.pem",
    "https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem",
]

MORE_INVALID_URLS = [
    "",
    " ",
    "https://s3.amazonaws.com",
    "https://s3.amazonaws.com/",
    "https://s3.amazonaws.com/echo.api",
    "https://s3.amazonaws.com/echo.api/",
    "https://s3.amazonaws.com/echo.api/..",
    "https://s3.amazonaws.com/echo.api/../evil/cert.pem",
    "https://s3.amazonaws.com/other/echo.api/cert.pem",
    "https://s3.amazonaws.com/echo.api2/cert.pem",
    "https://s3.amazonaws.com//echo.api/cert.pem",
    "https://s3.amazonaws.com/echo.api/%2e%2e/evil/cert.pem",
    "https://s3.amazonaws.com/echo.api\\..\\evil/cert.pem",
    "https://s3.amazonaws.com/echo.api/cert.pem?x=1",
    "https://s3.amazonaws.com/echo.api/cert.pem#frag",
    "https://user@s3.amazonaws.com/echo.api/cert.pem",
    "https://s3.amazonaws.com@evil.test/echo.api/cert.pem",
    "https://s3.amazonaws.com:@evil.test/echo.api/cert.pem",
    "https://s3.amazonaws.com.evil.test/echo.api/cert.pem",
    "https://evil-s3.amazonaws.com/echo.api/cert.pem",
    "https://x.s3.amazonaws.com/echo.api/cert.pem",
    "https://s3.amazonaws.com:8443/echo.api/cert.pem",
    "https://s3.amazonaws.com:0443/echo.api/cert.pem",
    "https://s3.amazonaws.com:/echo.api/cert.pem",
    "https://52.216.0.1/echo.api/cert.pem",
    "ftp://s3.amazonaws.com/echo.api/cert.pem",
    "//s3.amazonaws.com/echo.api/cert.pem",
    "s3.amazonaws.com/echo.api/cert.pem",
    "https://s3.amazonaws.com/echo.api/cert.pem\n",
    "https://s3.amazonaws.com/echo.api/ce\trt.pem",
    " https://s3.amazonaws.com/echo.api/cert.pem",
    "https://s3.amazonaws.com/echo.api/cért.pem",
    "https://s3.аmazonaws.com/echo.api/cert.pem",  # Cyrillic 'а'
    "https://s3.amazonaws.com/echo.api/\x00.pem",
    "https://s3.amazonaws.com/echo.api/" + "a" * 3000,
]


@pytest.mark.parametrize("url", VALID_URLS)
def test_documented_valid_cert_urls_normalise(url: str) -> None:
    assert check_cert_url(url) == CANONICAL_URL


@pytest.mark.parametrize("url", DOCUMENTED_INVALID_URLS + MORE_INVALID_URLS)
def test_invalid_cert_urls_are_refused(url: str) -> None:
    with pytest.raises(VerificationError, match=r"^bad cert url$"):
        check_cert_url(url)


@pytest.mark.parametrize("url", [None, 42, b"https://s3.amazonaws.com/echo.api/x.pem", ["x"]])
def test_non_string_cert_url_is_refused(url: Any) -> None:
    with pytest.raises(VerificationError, match=r"^bad cert url$"):
        check_cert_url(url)


@given(st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_cert_url_check_only_ever_yields_the_bucket(url: str) -> None:
    try:
        normalised = check_cert_url(url)
    except VerificationError as exc:
        assert exc.reason == "bad cert url"
    else:
        assert normalised.startswith("https://s3.amazonaws.com/echo.api/")


@pytest.mark.parametrize("url", DOCUMENTED_INVALID_URLS)
def test_verifier_refuses_documented_bad_urls_without_fetching(clock: FakeClock, url: str) -> None:
    verifier, fetcher = make_verifier(clock)
    envelope = make_envelope(clock())
    headers, body = signed_request(envelope, cert_url=url)
    assert refused(verifier, headers, body, envelope) == "bad cert url"
    assert fetcher.calls == []


def test_verifier_fetches_the_normalised_url_once_for_all_spellings(clock: FakeClock) -> None:
    verifier, fetcher = make_verifier(clock)
    for url in VALID_URLS:
        envelope = make_envelope(clock())
        verifier.verify(*signed_request(envelope, cert_url=url), envelope)
    assert fetcher.calls == [CANONICAL_URL]


# --- certificate chain -------------------------------------------------------


def test_expired_leaf_is_refused(clock: FakeClock) -> None:
    pem = default_pki().issue_pem(
        not_before=clock() - timedelta(days=30), not_after=clock() - timedelta(seconds=1)
    )
    verifier, _ = make_verifier(clock, pem)
    assert refused(verifier, *good_request(clock)) == "cert expired"


def test_not_yet_valid_leaf_is_refused(clock: FakeClock) -> None:
    pem = default_pki().issue_pem(not_before=clock() + timedelta(minutes=5))
    verifier, _ = make_verifier(clock, pem)
    assert refused(verifier, *good_request(clock)) == "cert not yet valid"


@pytest.mark.parametrize(
    "names",
    [
        ["echo-api.amazon.com.evil.test"],
        ["evil.test"],
        ["*.amazon.com"],  # the server verifier alone would accept this wildcard
        ["echo-api.amazon.co"],
        [],  # no SAN extension at all
    ],
)
def test_leaf_without_exact_san_is_refused(clock: FakeClock, names: list[str]) -> None:
    verifier, _ = make_verifier(clock, default_pki().issue_pem(dns_names=names))
    assert refused(verifier, *good_request(clock)) == "cert san mismatch"


def test_san_is_found_among_several_names(clock: FakeClock) -> None:
    pem = default_pki().issue_pem(dns_names=["alexa.amazon.com", "ECHO-API.amazon.com", "x.test"])
    verifier, _ = make_verifier(clock, pem)
    verifier.verify(*good_request(clock))


@pytest.mark.parametrize(
    "ekus",
    [
        None,
        [ExtendedKeyUsageOID.SERVER_AUTH],
        [ExtendedKeyUsageOID.CLIENT_AUTH],  # a plain server verifier would refuse this
    ],
)
def test_leaf_eku_does_not_decide_trust(clock: FakeClock, ekus: Any) -> None:
    verifier, _ = make_verifier(clock, default_pki().issue_pem(extended_key_usages=ekus))
    verifier.verify(*good_request(clock))


def test_chain_from_untrusted_root_is_refused(clock: FakeClock) -> None:
    rogue = make_pki("Rogue")  # same shape and SAN, but its own root
    verifier, _ = make_verifier(clock, rogue.pem)
    envelope = make_envelope(clock())
    headers, body = signed_request(envelope, rogue.leaf_key)
    assert refused(verifier, headers, body, envelope) == "cert chain untrusted"


def test_rogue_intermediate_with_stolen_name_is_refused(clock: FakeClock) -> None:
    """An intermediate whose name matches ours but whose key is not ours."""
    pki = default_pki()
    fake = make_ca("Alexa Test Intermediate CA", key_label="impostor intermediate")
    leaf = make_leaf(fake)
    verifier, _ = make_verifier(clock, chain_pem([leaf.cert, fake.cert]))
    assert refused(verifier, *good_request(clock)) == "cert chain untrusted"
    assert pki.intermediate.cert.subject == fake.cert.subject


def test_chain_missing_its_intermediate_is_refused(clock: FakeClock) -> None:
    verifier, _ = make_verifier(clock, chain_pem([default_pki().leaf.cert]))
    assert refused(verifier, *good_request(clock)) == "cert chain untrusted"


def test_expired_intermediate_is_refused(clock: FakeClock) -> None:
    pki = default_pki()
    stale = make_ca(
        "Alexa Test Intermediate CA",
        issuer=pki.root,
        not_before=clock() - timedelta(days=60),
        not_after=clock() - timedelta(days=1),
    )
    verifier, _ = make_verifier(clock, chain_pem([make_leaf(stale).cert, stale.cert]))
    assert refused(verifier, *good_request(clock)) == "cert chain untrusted"


def test_chain_with_extra_certificates_still_validates(clock: FakeClock) -> None:
    """Amazon's real PEM carries root and cross-signed certs after the intermediate."""
    pki = default_pki()
    extras = [pki.root.cert, make_pki("Rogue").root.cert]
    pem = chain_pem([pki.leaf.cert, pki.intermediate.cert, *extras])
    verifier, _ = make_verifier(clock, pem)
    verifier.verify(*good_request(clock))


@pytest.mark.parametrize(
    "pem",
    [
        b"",
        b"not a pem at all",
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        b"-----BEGIN CERTIFICATE-----\n",
        "a str, not bytes",
        None,
    ],
)
def test_garbage_pem_is_refused(clock: FakeClock, pem: Any) -> None:
    verifier = Verifier(
        [SKILL_ID], trust_roots=default_pki().trust_roots, clock=clock, fetcher=lambda url: pem
    )
    assert refused(verifier, *good_request(clock)) == "bad cert pem"


def test_fetcher_raising_anything_is_a_fetch_failure(clock: FakeClock) -> None:
    verifier, _ = make_verifier(clock, RuntimeError("boom"))
    assert refused(verifier, *good_request(clock)) == "cert fetch failed: error"


# --- Signature-256 -----------------------------------------------------------


def test_tampered_body_is_refused(clock: FakeClock) -> None:
    verifier, _ = make_verifier(clock)
    headers, body, _ = good_request(clock)
    tampered = body.replace(b"LaunchRequest", b"LaunchRequesT")
    assert tampered != body
    assert refused(verifier, headers, tampered, json.loads(tampered)) == "signature mismatch"


def test_signature_by_another_key_is_refused(clock: FakeClock) -> None:
    verifier, _ = make_verifier(clock)
    envelope = make_envelope(clock())
    headers, body = signed_request(envelope, rsa_key("someone else"))
    assert refused(verifier, headers, body, envelope) == "signature mismatch"


@pytest.mark.parametrize(
    ("drop", "reason"),
    [
        ("SignatureCertChainUrl", "missing cert url header"),
        ("Signature-256", "missing signature header"),
    ],
)
def test_missing_header_is_refused(clock: FakeClock, drop: str, reason: str) -> None:
    verifier, fetcher = make_verifier(clock)
    headers, body, envelope = good_request(clock)
    del headers[drop]
    assert refused(verifier, headers, body, envelope) == reason
    headers[drop] = "   "
    assert refused(verifier, headers, body, envelope) == reason
    assert fetcher.calls == []


def test_no_headers_at_all_is_refused(clock: FakeClock) -> None:
    verifier, _ = make_verifier(clock)
    _, body, envelope = good_request(clock)
    assert refused(verifier, {}, body, envelope) == "missing cert url header"


def test_legacy_sha1_signature_header_is_not_accepted(clock: FakeClock) -> None:
    verifier, _ = make_verifier(clock)
    headers, body, envelope = good_request(clock)
    headers["Signature"] = headers.pop("Signature-256")
    assert refused(verifier, headers, body, envelope) == "missing signature header"


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        ("not base64!!", "bad signature encoding"),
        ("***", "bad signature encoding"),
        ("abc", "bad signature encoding"),  # bad padding
        ("====", "bad signature encoding"),
        ("QUJD\x00", "bad signature encoding"),
        ("é" * 8, "bad signature encoding"),
        ("QUJD", "bad signature encoding"),  # decodes, but too short for any RSA key
        ("AAAA" * 400, "bad signature encoding"),  # 1,200 bytes: longer than any
        ("AAAA" * 86, "signature mismatch"),
    ],
)
def test_bad_signature_encoding_is_refused(clock: FakeClock, signature: str, reason: str) -> None:
    verifier, _ = make_verifier(clock)
    headers, body, envelope = good_request(clock)
    headers["Signature-256"] = signature
    assert refused(verifier, headers, body, envelope) == reason


@pytest.mark.parametrize("case", [str.lower, str.upper])
def test_header_names_are_case_insensitive(clock: FakeClock, case: Callable[[str], str]) -> None:
    verifier, _ = make_verifier(clock)
    headers, body, envelope = good_request(clock)
    verifier.verify({case(k): v for k, v in headers.items()}, body, envelope)


def test_werkzeug_headers_are_accepted(clock: FakeClock) -> None:
    verifier, _ = make_verifier(clock)
    headers, body, envelope = good_request(clock)
    environ = {
        "HTTP_SIGNATURECERTCHAINURL": headers["SignatureCertChainUrl"],
        "HTTP_SIGNATURE_256": headers["Signature-256"],
    }
    verifier.verify(EnvironHeaders(environ), body, envelope)


# --- timestamp ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "request_type", "reason"),
    [
        (-149, "LaunchRequest", None),
        (149, "LaunchRequest", None),
        (-151, "LaunchRequest", "stale timestamp"),
        (151, "LaunchRequest", "future timestamp"),
        (-3599, "AlexaSkillEvent.SkillEnabled", None),
        (3599, "AlexaSkillEvent.SkillPermissionAccepted", None),
        (-3601, "AlexaSkillEvent.SkillEnabled", "stale timestamp"),
        (3601, "AlexaSkillEvent.SkillDisabled", "future timestamp"),
        (-3599, "IntentRequest", "stale timestamp"),
        (-3599, "AlexaSkillEventX", "stale timestamp"),
    ],
)
def test_timestamp_window(
    clock: FakeClock, offset: int, request_type: str, reason: str | None
) -> None:
    verifier, _ = make_verifier(clock)
    envelope = make_envelope(clock() + timedelta(seconds=offset), request_type=request_type)
    headers, body = signed_request(envelope)
    if reason is None:
        verifier.verify(headers, body, envelope)
    else:
        assert refused(verifier, headers, body, envelope) == reason


@pytest.mark.parametrize(
    "stamp",
    ["{}.123Z", "{}.123456789Z", "{}+00:00", "{}.5+01:00"],
)
def test_timestamp_formats(clock: FakeClock, stamp: str) -> None:
    verifier, _ = make_verifier(clock)
    when = clock() + (timedelta(hours=1) if "+01:00" in stamp else timedelta())
    envelope = make_envelope(stamp.format(iso_timestamp(when)[:-1]))
    verifier.verify(*signed_request(envelope), envelope)


@pytest.mark.parametrize(
    ("stamp", "reason"),
    [
        (None, "missing timestamp"),
        ("", "bad timestamp"),
        ("yesterday", "bad timestamp"),
        ("2026-13-45T25:61:61Z", "bad timestamp"),
        (1764273600, "bad timestamp"),
        (1764273600.0, "bad timestamp"),
        (["2026-11-27T20:00:00Z"], "bad timestamp"),
        ({"t": 1}, "bad timestamp"),
        (True, "bad timestamp"),
        ("0001-01-01T00:00:00+23:59", "stale timestamp"),
        ("9999-12-31T23:59:59-23:59", "future timestamp"),
        ("2026-11-27T20:00:00Z" + " " * 100, "bad timestamp"),
    ],
)
def test_missing_or_garbled_timestamp_is_refused(clock: FakeClock, stamp: Any, reason: str) -> None:
    verifier, fetcher = make_verifier(clock)
    envelope = make_envelope(clock())
    envelope["request"]["timestamp"] = stamp
    if stamp is None:
        del envelope["request"]["timestamp"]
    headers, body = signed_request(envelope)
    assert refused(verifier, headers, body, envelope) == reason
    assert fetcher.calls == []  # no network I/O for a replayed or junk request


@given(stamp=st.text(max_size=40) | st.integers() | st.floats() | st.none())
@settings(max_examples=200, deadline=None)
def test_any_timestamp_value_yields_only_verification_error(stamp: Any) -> None:
    envelope = {"request": {"type": "LaunchRequest", "timestamp": stamp}}
    try:
        check_timestamp(envelope, utcnow())
    except VerificationError:
        pass


# --- application id ----------------------------------------------------------


def test_wrong_application_id_is_refused(clock: FakeClock) -> None:
    verifier, fetcher = make_verifier(clock)
    envelope = make_envelope(clock(), OTHER_SKILL_ID)
    headers, body = signed_request(envelope)
    assert refused(verifier, headers, body, envelope) == "wrong application id"
    del envelope["context"]["System"]["application"], envelope["session"]["application"]
    headers, body = signed_request(envelope)
    assert refused(verifier, headers, body, envelope) == "missing application id"
    assert fetcher.calls == []


def test_any_configured_application_id_passes(clock: FakeClock) -> None:
    fetcher = CountingFetcher(default_pki().pem)
    verifier = Verifier(
        parse_skill_ids(f" {OTHER_SKILL_ID} , {SKILL_ID} ,"),
        trust_roots=default_pki().trust_roots,
        clock=clock,
        fetcher=fetcher,
    )
    for skill in (SKILL_ID, OTHER_SKILL_ID):
        envelope = make_envelope(clock(), skill)
        verifier.verify(*signed_request(envelope), envelope)


def test_application_id_falls_back_to_session() -> None:
    envelope = make_envelope(utcnow())
    del envelope["context"]
    check_application_id(envelope, {SKILL_ID})
    envelope["session"]["application"]["applicationId"] = OTHER_SKILL_ID
    with pytest.raises(WrongApplication, match=r"^wrong application id$"):
        check_application_id(envelope, {SKILL_ID})


def test_context_application_id_wins_over_session() -> None:
    envelope = make_envelope(utcnow(), OTHER_SKILL_ID)
    envelope["session"]["application"]["applicationId"] = SKILL_ID
    with pytest.raises(WrongApplication, match=r"^wrong application id$"):
        check_application_id(envelope, {SKILL_ID})


def test_request_without_session_uses_context() -> None:
    check_application_id(make_envelope(utcnow(), with_session=False), {SKILL_ID})


@pytest.mark.parametrize(
    "envelope",
    [
        {},
        {"context": {"System": {"application": {}}}},
        {"context": {"System": {"application": {"applicationId": ""}}}},
        {"context": {"System": {"application": {"applicationId": 7}}}},
        {"context": "x", "session": ["y"]},
        {"context": {"System": None}, "session": {"application": {"applicationId": None}}},
        [],
        None,
        "amzn1.ask.skill",
    ],
)
def test_missing_application_id_is_refused(envelope: Any) -> None:
    with pytest.raises(WrongApplication, match=r"^missing application id$"):
        check_application_id(envelope, {SKILL_ID})


def test_no_configured_ids_accepts_any_skill_but_no_verifier_is_built_without_them() -> None:
    check_application_id(make_envelope(utcnow(), OTHER_SKILL_ID), frozenset())  # development: any skill
    check_application_id({}, frozenset())
    with pytest.raises(ValueError):
        Verifier([], trust_roots=default_pki().trust_roots)
    with pytest.raises(TypeError):
        Verifier(SKILL_ID, trust_roots=default_pki().trust_roots)  # a str, not a set


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, frozenset()),
        ("", frozenset()),
        (" , ,", frozenset()),
        ("a", frozenset({"a"})),
        (" a , b,,a ,\tc\n", frozenset({"a", "b", "c"})),
    ],
)
def test_parse_skill_ids(value: str | None, expected: frozenset[str]) -> None:
    assert parse_skill_ids(value) == expected


# --- garbage in, VerificationError out ---------------------------------------


def _set(path: tuple[str, ...], value: Any) -> Callable[[dict], Any]:
    def mutate(envelope: dict) -> dict:
        node = envelope
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return envelope

    return mutate


# Each breaks the envelope so no request in it can be accepted.
FATAL_MUTATIONS = [
    _set(("request",), ["a", "list"]),
    _set(("request",), None),
    _set(("request",), "LaunchRequest"),
    lambda envelope: {**envelope, "context": [], "session": 1.5},  # no application id
    lambda envelope: [envelope],
    lambda envelope: None,
    lambda envelope: "a string",
    lambda envelope: 12,
]

# Odd but not disqualifying (the skill itself will reject them later).
ODD_MUTATIONS = [
    _set(("request", "type"), 42),
    _set(("request", "type"), {"x": 1}),
    _set(("context",), "x"),  # session still names the skill
    _set(("context", "System"), []),
    _set(("context", "System", "application"), 5),
    _set(("session",), 1.5),
]


@pytest.mark.parametrize("mutate", FATAL_MUTATIONS)
def test_garbage_envelope_types_are_refused(
    clock: FakeClock, mutate: Callable[[dict], Any]
) -> None:
    verifier, _ = make_verifier(clock)
    envelope = mutate(make_envelope(clock()))
    body = envelope_body(envelope)
    with pytest.raises(VerificationError):
        verifier.verify(signed_headers(body), body, envelope)


@pytest.mark.parametrize("mutate", ODD_MUTATIONS)
def test_odd_envelope_types_never_raise_anything_else(
    clock: FakeClock, mutate: Callable[[dict], Any]
) -> None:
    verifier, _ = make_verifier(clock)
    envelope = mutate(make_envelope(clock()))
    body = envelope_body(envelope)
    try:
        verifier.verify(signed_headers(body), body, envelope)
    except VerificationError:
        pass


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        (None, b"{}"),
        (["SignatureCertChainUrl"], b"{}"),
        ({"SignatureCertChainUrl": 5, "Signature-256": b"x"}, b"{}"),
        ({"SignatureCertChainUrl": CERT_URL, "Signature-256": "QUJD"}, "a str body"),
        ({"SignatureCertChainUrl": CERT_URL, "Signature-256": "QUJD"}, None),
        ({1: 2, None: CERT_URL}, b"{}"),
    ],
)
def test_garbage_headers_and_body_raise_only_verification_error(
    clock: FakeClock, headers: Any, body: Any
) -> None:
    verifier, _ = make_verifier(clock)
    with pytest.raises(VerificationError):
        verifier.verify(headers, body, make_envelope(clock()))


def test_unexpected_internal_error_is_wrapped(clock: FakeClock) -> None:
    def broken_clock() -> datetime:
        raise KeyError("secret-user-id")

    verifier = Verifier([SKILL_ID], trust_roots=default_pki().trust_roots, clock=broken_clock)
    with pytest.raises(VerificationError) as info:
        verifier.verify(*good_request(clock))
    assert info.value.reason == "malformed request"
    assert "secret" not in str(info.value) and info.value.__cause__ is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(["request", "context", "session", "System", "application",
                         "applicationId", "timestamp", "type", "x"]),
        children,
        max_size=4,
    ),
    max_leaves=20,
)


@given(envelope=json_values)
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_fuzzed_envelopes_raise_only_verification_error(clock: FakeClock, envelope: Any) -> None:
    verifier, _ = make_verifier(clock)
    body = envelope_body(envelope)
    with pytest.raises(VerificationError):
        verifier.verify(signed_headers(body), body, envelope)


# --- caching -----------------------------------------------------------------


def test_warm_request_does_not_fetch(clock: FakeClock) -> None:
    verifier, fetcher = make_verifier(clock)
    for _ in range(5):
        verifier.verify(*good_request(clock))
        clock.advance(60)
    assert len(fetcher.calls) == 1


def test_expired_cached_leaf_is_refetched_and_refused(clock: FakeClock) -> None:
    pem = default_pki().issue_pem(not_after=clock() + timedelta(hours=1))
    verifier, fetcher = make_verifier(clock, pem)
    verifier.verify(*good_request(clock))
    clock.advance(3600 + 1)
    assert refused(verifier, *good_request(clock)) == "cert expired"
    assert len(fetcher.calls) == 2


def test_cache_lasts_only_until_the_earliest_expiry_in_the_path(clock: FakeClock) -> None:
    pki = default_pki()
    short = make_ca(
        "Alexa Test Intermediate CA", issuer=pki.root, not_after=clock() + timedelta(hours=1)
    )
    verifier, fetcher = make_verifier(clock, chain_pem([make_leaf(short).cert, short.cert]))
    verifier.verify(*good_request(clock))
    clock.advance(3600 + 1)
    assert refused(verifier, *good_request(clock)) == "cert chain untrusted"
    assert len(fetcher.calls) == 2


def test_cache_is_a_bounded_lru(clock: FakeClock) -> None:
    verifier, fetcher = make_verifier(clock, cache_size=2)
    urls = [f"https://s3.amazonaws.com/echo.api/cert-{i}.pem" for i in range(3)]

    def hit(url: str) -> None:
        envelope = make_envelope(clock())
        verifier.verify(*signed_request(envelope, cert_url=url), envelope)

    for url in urls:  # 0 is evicted by 2
        hit(url)
    hit(urls[2])
    hit(urls[1])
    assert len(fetcher.calls) == 3
    hit(urls[0])
    assert fetcher.calls[-1] == urls[0] and len(fetcher.calls) == 4


def test_failed_url_backs_off_then_retries(clock: FakeClock) -> None:
    verifier, fetcher = make_verifier(
        clock, VerificationError("cert fetch failed: http status"), failure_backoff=30.0
    )
    for _ in range(3):
        assert refused(verifier, *good_request(clock)) == "cert fetch failed: http status"
        clock.advance(9)
    assert len(fetcher.calls) == 1  # 27 s in: still backing off
    clock.advance(4)
    fetcher.result = default_pki().pem
    verifier.verify(*good_request(clock))
    assert len(fetcher.calls) == 2


@pytest.mark.parametrize(
    "reason", ["cert fetch failed: timeout", "cert fetch failed: connection",
               "cert fetch failed: server error"]
)
def test_transient_failure_backs_off_for_two_seconds_only(clock: FakeClock, reason: str) -> None:
    """One network hiccup must not refuse Alexa for 30 s (issue 12, F3)."""
    verifier, fetcher = make_verifier(clock, VerificationError(reason, transient=True))
    assert refused(verifier, *good_request(clock)) == reason
    clock.advance(1.5)
    assert refused(verifier, *good_request(clock)) == reason
    assert len(fetcher.calls) == 1  # still backing off, no new fetch
    clock.advance(0.6)
    fetcher.result = default_pki().pem
    verifier.verify(*good_request(clock))
    assert len(fetcher.calls) == 2


def test_a_fetcher_that_crashes_counts_as_transient(clock: FakeClock) -> None:
    verifier, fetcher = make_verifier(clock, OSError("boom"))
    assert refused(verifier, *good_request(clock)) == "cert fetch failed: error"
    clock.advance(2.1)
    fetcher.result = default_pki().pem
    verifier.verify(*good_request(clock))


def random_url_request(clock: FakeClock, skill_id: str = SKILL_ID,
                       signature: str | None = None) -> tuple[dict[str, str], bytes, dict]:
    """What an attacker can send without Amazon's key: a fresh envelope for our skill id,
    a well-formed but random signature, and a certificate URL never seen before."""
    envelope = make_envelope(clock(), skill_id)
    url = f"https://s3.amazonaws.com/echo.api/{os.urandom(8).hex()}.pem"
    headers = {"SignatureCertChainUrl": url,
               "Signature-256": signature or base64.b64encode(os.urandom(256)).decode()}
    return headers, envelope_body(envelope), envelope


def test_fetches_are_capped_per_window_across_urls(clock: FakeClock) -> None:
    """Unsigned requests with new URLs each time cannot make us fetch without bound (F3/F4)."""
    verifier, fetcher = make_verifier(clock, b"junk", max_fetches=3, fetch_window=60)
    reasons = [refused(verifier, *random_url_request(clock)) for _ in range(10)]
    assert len(set(fetcher.calls)) == len(fetcher.calls) == 3
    assert reasons[:3] == ["bad cert pem"] * 3
    assert reasons[3:] == ["cert fetch refused: rate limited"] * 7
    clock.advance(59)
    assert refused(verifier, *random_url_request(clock)) == "cert fetch refused: rate limited"
    clock.advance(2)  # the window has moved past the first three
    fetcher.result = default_pki().pem
    verifier.verify(*good_request(clock))
    assert len(fetcher.calls) == 4


def test_rate_limited_url_is_not_blamed(clock: FakeClock) -> None:
    """A refusal by the cap is not remembered against the URL it happened to hit."""
    verifier, _ = make_verifier(clock, max_fetches=1, fetch_window=10)
    refused(verifier, *random_url_request(clock))
    assert refused(verifier, *good_request(clock)) == "cert fetch refused: rate limited"
    clock.advance(10)
    verifier.verify(*good_request(clock))


@pytest.mark.parametrize(
    ("skill_id", "signature", "reason"),
    [
        (OTHER_SKILL_ID, None, "wrong application id"),
        (SKILL_ID, "not a signature", "bad signature encoding"),
        (SKILL_ID, "QUJD", "bad signature encoding"),
    ],
)
def test_form_and_skill_id_are_checked_before_any_fetch(
    clock: FakeClock, skill_id: str, signature: str | None, reason: str
) -> None:
    verifier, fetcher = make_verifier(clock)
    for _ in range(20):
        assert refused(verifier, *random_url_request(clock, skill_id, signature)) == reason
    assert fetcher.calls == []


def test_invalid_chain_backs_off_with_the_same_reason(clock: FakeClock) -> None:
    verifier, fetcher = make_verifier(clock, make_pki("Rogue").pem)
    for _ in range(3):
        assert refused(verifier, *good_request(clock)) == "cert chain untrusted"
    assert len(fetcher.calls) == 1
    clock.advance(31)
    assert refused(verifier, *good_request(clock)) == "cert chain untrusted"
    assert len(fetcher.calls) == 2


def test_failure_table_is_bounded(clock: FakeClock) -> None:
    verifier, fetcher = make_verifier(clock, b"junk", failure_cache_size=2)
    urls = [f"https://s3.amazonaws.com/echo.api/bad-{i}.pem" for i in range(3)]
    for url in urls + urls[1:]:
        envelope = make_envelope(clock())
        with pytest.raises(VerificationError):
            verifier.verify(*signed_request(envelope, cert_url=url), envelope)
    assert len(fetcher.calls) == 3
    assert len(verifier._failures) == 2


def test_concurrent_cold_requests_share_one_fetch(clock: FakeClock) -> None:
    fetcher = CountingFetcher(default_pki().pem, delay=0.2)
    verifier = Verifier(
        [SKILL_ID], trust_roots=default_pki().trust_roots, clock=clock, fetcher=fetcher
    )
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            verifier.verify(*good_request(clock))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert errors == [] and len(fetcher.calls) == 1


def test_default_trust_roots_are_certifi() -> None:
    """Our throwaway root is not in certifi's bundle, so the chain is refused."""
    clock = FakeClock()
    verifier = Verifier([SKILL_ID], clock=clock, fetcher=CountingFetcher(default_pki().pem))
    assert refused(verifier, *good_request(clock)) == "cert chain untrusted"


# --- the real HTTP fetcher against a loopback server -------------------------

SHORT = 0.5  # fetch deadline for most fault tests; the 2 s default is tested once


class _Handler(BaseHTTPRequestHandler):
    stop: threading.Event
    pem: bytes

    def log_message(self, *args: Any) -> None:  # keep pytest output quiet
        pass

    def _send(self, status: int, body: bytes, length: bool = True, **headers: str) -> None:
        self.send_response(status)
        if length:
            self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _trickle(self, data: bytes) -> None:
        for i in range(len(data)):
            if self.stop.wait(1.0):
                return
            self.wfile.write(data[i : i + 1])
            self.wfile.flush()

    def do_GET(self) -> None:
        name = self.path.rsplit("/", 1)[-1]
        big = self.pem * (32 * 1024 // len(self.pem) + 1)
        try:
            if name == "good.pem":
                self._send(200, self.pem)
            elif name == "hang.pem":
                self.stop.wait(30)
            elif name == "missing.pem":
                self._send(404, b"not found")
            elif name == "unavailable.pem":
                self._send(503, b"try again")
            elif name == "redirect.pem":
                self._send(302, b"", Location="/echo.api/good.pem")
            elif name == "garbage.pem":
                self._send(200, b"<html>definitely not a certificate</html>")
            elif name == "huge.pem":
                self._send(200, big)
            elif name == "huge-unannounced.pem":
                self._send(200, big, length=False)
            elif name == "trickle-headers.pem":
                self._trickle(b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\n0123456789")
            elif name == "trickle-body.pem":
                self.send_response(200)
                self.send_header("Content-Length", str(len(self.pem)))
                self.end_headers()
                self.wfile.flush()
                self._trickle(self.pem)
            else:
                self._send(500, b"unknown test path")
        except OSError:
            pass  # the client gave up, as it should


@pytest.fixture(scope="module")
def server() -> Any:
    handler = type("Handler", (_Handler,), {"stop": threading.Event(), "pem": default_pki().pem})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    handler.stop.set()
    httpd.shutdown()
    httpd.server_close()


def loopback(fetcher: Callable[[str], bytes], base: str) -> Callable[[str], bytes]:
    """Send the (already validated) s3 URL to the loopback server instead."""
    return lambda url: fetcher(url.replace("https://s3.amazonaws.com", base, 1))


def closed_port_base() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def http_verifier(clock: FakeClock, base: str, timeout: float = SHORT) -> Verifier:
    return Verifier(
        [SKILL_ID],
        trust_roots=default_pki().trust_roots,
        clock=clock,
        fetcher=loopback(HttpFetcher(timeout=timeout), base),
    )


def request_for(clock: FakeClock, name: str) -> tuple[dict[str, str], bytes, dict]:
    envelope = make_envelope(clock())
    headers, body = signed_request(envelope, cert_url=f"https://s3.amazonaws.com/echo.api/{name}")
    return headers, body, envelope


def test_real_fetcher_serves_a_good_chain(clock: FakeClock, server: str) -> None:
    verifier = http_verifier(clock, server)
    verifier.verify(*request_for(clock, "good.pem"))
    assert HttpFetcher(timeout=SHORT)(f"{server}/echo.api/good.pem") == default_pki().pem


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("hang.pem", "cert fetch failed: timeout"),
        ("trickle-headers.pem", "cert fetch failed: timeout"),
        ("trickle-body.pem", "cert fetch failed: timeout"),
        ("missing.pem", "cert fetch failed: http status"),
        ("unavailable.pem", "cert fetch failed: server error"),
        ("redirect.pem", "cert fetch failed: http status"),
        ("huge.pem", "cert fetch failed: too large"),
        ("huge-unannounced.pem", "cert fetch failed: too large"),
        ("garbage.pem", "bad cert pem"),
    ],
)
def test_real_fetcher_faults(clock: FakeClock, server: str, name: str, reason: str) -> None:
    verifier = http_verifier(clock, server)
    started = time.monotonic()
    assert refused(verifier, *request_for(clock, name)) == reason
    assert time.monotonic() - started < SHORT + 0.5


def test_real_fetcher_refused_connection(clock: FakeClock) -> None:
    verifier = http_verifier(clock, closed_port_base())
    started = time.monotonic()
    assert refused(verifier, *request_for(clock, "good.pem")) == "cert fetch failed: connection"
    assert time.monotonic() - started < SHORT + 0.5


@pytest.mark.parametrize(
    ("name", "transient"),
    [("hang.pem", True), ("unavailable.pem", True), ("missing.pem", False),
     ("redirect.pem", False), ("huge.pem", False)],
)
def test_real_fetcher_tells_transient_from_permanent(server: str, name: str, transient: bool) -> None:
    with pytest.raises(VerificationError) as info:
        HttpFetcher(timeout=SHORT)(f"{server}/echo.api/{name}")
    assert info.value.transient is transient


def test_real_fetcher_refused_connection_is_transient() -> None:
    with pytest.raises(VerificationError) as info:
        HttpFetcher(timeout=SHORT)(f"{closed_port_base()}/echo.api/good.pem")
    assert info.value.transient


def test_real_fetcher_default_deadline_is_two_seconds() -> None:
    # The deadline itself is exercised above with a short timeout; waiting out 2 s here adds nothing.
    fetcher = HttpFetcher()
    assert fetcher.timeout == 2.0 and fetcher.max_bytes == 32 * 1024


def test_cached_chain_keeps_serving_while_another_fetch_hangs(
    clock: FakeClock, server: str
) -> None:
    verifier = http_verifier(clock, server, timeout=1.0)
    verifier.verify(*request_for(clock, "good.pem"))
    outcome: list[str] = []

    def cold() -> None:
        try:
            verifier.verify(*request_for(clock, "hang.pem"))
        except VerificationError as exc:
            outcome.append(exc.reason)

    thread = threading.Thread(target=cold)
    thread.start()
    time.sleep(0.1)  # the hanging fetch is now in flight
    for _ in range(20):
        started = time.monotonic()
        verifier.verify(*request_for(clock, "good.pem"))
        assert time.monotonic() - started < 0.25
    assert thread.is_alive()  # the warm requests really overlapped the fetch
    thread.join(3)
    assert outcome == ["cert fetch failed: timeout"]


# --- issue 23, N1: no lock-out through the fetch budget ------------------------------


def test_each_client_spends_only_its_own_fetch_budget(clock: FakeClock) -> None:
    verifier, fetcher = make_verifier(clock, b"junk", max_fetches=30, max_fetches_per_client=3)
    reasons = [refused(verifier, *random_url_request(clock), client="192.0.2.7") for _ in range(10)]
    assert reasons == ["bad cert pem"] * 3 + ["cert fetch refused: rate limited"] * 7
    fetcher.result = default_pki().pem
    verifier.verify(*good_request(clock), client="198.51.100.1")   # someone else: fetched and answered
    assert len(fetcher.calls) == 4
    clock.advance(60)   # the window has passed: the first client may fetch again
    assert refused(verifier, *random_url_request(clock), client="192.0.2.7") == "signature mismatch"


def test_an_ipv6_client_is_one_client_per_64(clock: FakeClock) -> None:
    verifier, fetcher = make_verifier(clock, b"junk", max_fetches_per_client=2)
    for host in range(1, 6):
        refused(verifier, *random_url_request(clock), client=f"2001:db8:1:2::{host:x}")
    assert len(fetcher.calls) == 2


def test_many_clients_still_meet_the_overall_cap(clock: FakeClock) -> None:
    verifier, fetcher = make_verifier(clock, b"junk", max_fetches=5, max_fetches_per_client=3)
    for client in range(4):
        for _ in range(3):
            refused(verifier, *random_url_request(clock), client=f"192.0.2.{client}")
    assert len(fetcher.calls) == 5


def test_a_url_that_validated_before_may_always_be_fetched_again(clock: FakeClock) -> None:
    """After eviction (or expiry) a known-good URL is fetched whatever the budgets say."""
    verifier, fetcher = make_verifier(clock, cache_size=1, max_fetches=4, max_fetches_per_client=4)
    first, second = CERT_URL, CANONICAL_URL
    for url in (first, second):   # the second evicts the first from the one-entry cache
        envelope = make_envelope(clock())
        verifier.verify(*signed_request(envelope, cert_url=url), envelope, client="198.51.100.1")
    fetcher.result = b"junk"
    for _ in range(2):
        refused(verifier, *random_url_request(clock), client="198.51.100.1")   # both budgets spent
    assert refused(verifier, *random_url_request(clock), client="192.0.2.9") == "cert fetch refused: rate limited"
    fetcher.result = default_pki().pem
    envelope = make_envelope(clock())
    verifier.verify(*signed_request(envelope, cert_url=first), envelope, client="192.0.2.9")
    assert fetcher.calls[-1] == first and len(fetcher.calls) == 5


def test_warm_up_fills_the_cache_without_spending_the_budget(clock: FakeClock) -> None:
    verifier, fetcher = make_verifier(clock, max_fetches=1, max_fetches_per_client=1)
    assert verifier.warm([CERT_URL, "https://evil.example/echo.api/x.pem"]) == 1
    refused(verifier, *random_url_request(clock))   # spends the only fetch left
    verifier.verify(*good_request(clock))            # warm: no fetch needed
    assert fetcher.calls == [CERT_URL, fetcher.calls[1]] and len(fetcher.calls) == 2


def test_a_failed_warm_up_is_logged_and_left_to_the_first_request(clock: FakeClock, caplog: Any) -> None:
    verifier, fetcher = make_verifier(clock, make_pki("Rogue").pem)
    caplog.set_level("WARNING", logger="webhook.verification")
    assert verifier.warm([CERT_URL]) == 0
    assert "alexa cert warm-up failed: cert chain untrusted" in caplog.text
    fetcher.result = default_pki().pem
    clock.advance(31)   # the failure's back-off, as after any refused chain
    verifier.verify(*good_request(clock))
    assert len(fetcher.calls) == 2


@pytest.mark.parametrize(("address", "key"), [
    ("192.0.2.7", "192.0.2.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.7", "192.0.2.7"),
    ("", "-"),
    (None, "-"),
    ("not an address\n", "-"),
])
def test_client_key(address: str | None, key: str) -> None:
    assert client_key(address) == key
