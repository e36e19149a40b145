"""Throwaway PKI and signed Alexa requests for offline tests.

Builds a root CA -> intermediate -> ``echo-api.amazon.com`` leaf with
``cryptography``, shaped like Amazon's real chain (leaf first, then
intermediates, CA/B-style extensions), so ``webhook.verification`` can be
exercised end to end without the network. Every knob that a check depends on
(validity window, SAN names, EKU, who signs) is a parameter, so a test can
break exactly one thing.

RSA key generation is slow, so keys are cached per label for the whole test
session: ask for ``rsa_key("other")`` to get a second, distinct key.

Typical use::

    pki = default_pki()
    verifier = Verifier([SKILL_ID], trust_roots=pki.trust_roots,
                        fetcher=lambda url: pki.pem)
    headers, body = signed_request(make_envelope(now), pki.leaf_key)
    verifier.verify(headers, body, json.loads(body))
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from testkit import envelopes

ECHO_API_HOST = "echo-api.amazon.com"
CERT_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"
SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-000000000001"
OTHER_SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-0000000000ff"

_UTC = timezone.utc


def utcnow() -> datetime:
    return datetime.now(_UTC)


@functools.lru_cache(maxsize=None)
def rsa_key(label: str = "leaf") -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key, generated once per label per test session."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class Issued:
    """A certificate together with its private key."""

    cert: x509.Certificate
    key: rsa.RSAPrivateKey


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Alexa Test PKI"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _window(
    not_before: datetime | None, not_after: datetime | None, days: int
) -> tuple[datetime, datetime]:
    now = utcnow()
    return (
        not_before or now - timedelta(days=1),
        not_after or now + timedelta(days=days),
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    """Key usage of a CA (signs certificates) or of a signing leaf."""
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=not ca,
        data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
        encipher_only=False, decipher_only=False,
    )


def _with_key_ids(builder: x509.CertificateBuilder, key: rsa.RSAPrivateKey,
                  signer_key: rsa.RSAPrivateKey) -> x509.CertificateBuilder:
    """Subject and authority key identifiers, which chain building relies on."""
    return builder.add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
    ).add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), critical=False
    )


def make_ca(
    common_name: str,
    *,
    issuer: Issued | None = None,
    key_label: str | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> Issued:
    """A CA certificate: self-signed root when ``issuer`` is None, else an intermediate."""
    key = rsa_key(key_label or common_name)
    subject = _name(common_name)
    start, end = _window(not_before, not_after, days=3650)
    signer_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.BasicConstraints(ca=True, path_length=None if issuer is None else 0),
            critical=True,
        )
        .add_extension(_key_usage(ca=True), critical=True)
    )
    builder = _with_key_ids(builder, key, signer_key)
    return Issued(builder.sign(signer_key, hashes.SHA256()), key)


def make_leaf(
    issuer: Issued,
    *,
    dns_names: Sequence[str] = (ECHO_API_HOST,),
    key_label: str = "leaf",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    extended_key_usages: Sequence[x509.ObjectIdentifier] | None = (
        ExtendedKeyUsageOID.SERVER_AUTH,
        ExtendedKeyUsageOID.CLIENT_AUTH,
    ),
) -> Issued:
    """An end-entity certificate like Amazon's signing cert (EKU None = no EKU extension)."""
    key = rsa_key(key_label)
    start, end = _window(not_before, not_after, days=30)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(dns_names[0] if dns_names else "no-san"))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(ca=False), critical=True)
    )
    if dns_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in dns_names]),
            critical=False,
        )
    if extended_key_usages is not None:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(list(extended_key_usages)), critical=False
        )
    builder = _with_key_ids(builder, key, issuer.key)
    return Issued(builder.sign(issuer.key, hashes.SHA256()), key)


def chain_pem(certs: Iterable[x509.Certificate]) -> bytes:
    """Concatenated PEM, in the order given (Amazon's order: leaf first)."""
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


@dataclass(frozen=True)
class AlexaPKI:
    """A root, an intermediate and a good signing leaf issued under them."""

    root: Issued
    intermediate: Issued
    leaf: Issued
    leaf_key_label: str

    @property
    def trust_roots(self) -> list[x509.Certificate]:
        return [self.root.cert]

    @property
    def leaf_key(self) -> rsa.RSAPrivateKey:
        return self.leaf.key

    @property
    def pem(self) -> bytes:
        """What the cert URL serves: leaf, then the intermediate."""
        return chain_pem([self.leaf.cert, self.intermediate.cert])

    def issue_pem(self, **leaf_options: Any) -> bytes:
        """PEM of a variant leaf (see ``make_leaf``) under this PKI's intermediate.

        The variant keeps this PKI's leaf key unless ``key_label`` says otherwise,
        so requests signed with ``leaf_key`` fail only for the defect under test.
        """
        leaf_options.setdefault("key_label", self.leaf_key_label)
        leaf = make_leaf(self.intermediate, **leaf_options)
        return chain_pem([leaf.cert, self.intermediate.cert])


def make_pki(name: str = "Alexa Test", leaf_key_label: str | None = None) -> AlexaPKI:
    """A fresh PKI whose keys are labelled by ``name`` (so two names never share keys)."""
    label = leaf_key_label or f"{name} leaf"
    root = make_ca(f"{name} Root CA")
    intermediate = make_ca(f"{name} Intermediate CA", issuer=root)
    leaf = make_leaf(intermediate, key_label=label)
    return AlexaPKI(root, intermediate, leaf, label)


@functools.lru_cache(maxsize=None)
def default_pki() -> AlexaPKI:
    """The session-wide PKI tests trust; its leaf key is ``rsa_key("leaf")``,
    the default of ``make_leaf`` and ``signed_headers``."""
    return make_pki("Alexa Test", leaf_key_label="leaf")


def sign_body(body: bytes, key: rsa.RSAPrivateKey) -> str:
    """Base64 RSA PKCS#1 v1.5 SHA-256 signature, as in the ``Signature-256`` header."""
    signature = key.sign(body, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def signed_headers(
    body: bytes, key: rsa.RSAPrivateKey | None = None, cert_url: str = CERT_URL
) -> dict[str, str]:
    """The two headers Alexa sends (key defaults to the default PKI's leaf key)."""
    key = key or default_pki().leaf_key
    return {"SignatureCertChainUrl": cert_url, "Signature-256": sign_body(body, key)}


def iso_timestamp(when: datetime) -> str:
    """Alexa's timestamp format, e.g. ``2026-11-27T20:00:00Z``."""
    return when.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_envelope(
    timestamp: datetime | str | None = None,
    application_id: str = SKILL_ID,
    *,
    request_type: str = "LaunchRequest",
    with_session: bool = True,
) -> dict[str, Any]:
    """A realistic request envelope (see ``testkit.envelopes``); timestamp defaults to now."""
    if timestamp is None:
        timestamp = utcnow()
    if isinstance(timestamp, datetime):
        timestamp = iso_timestamp(timestamp)
    request = {"type": request_type, "requestId": "amzn1.echo-api.request.00000000-0000-4000-8000-000000000000",
               "timestamp": timestamp, "locale": "en-US"}
    envelope = envelopes.envelope(request, app_id=application_id)
    if not with_session:
        del envelope["session"]
    return envelope


def envelope_body(envelope: Any) -> bytes:
    """Serialise an envelope the way Alexa does (compact JSON, UTF-8)."""
    return json.dumps(envelope, separators=(",", ":")).encode("utf-8")


def signed_request(
    envelope: Any, key: rsa.RSAPrivateKey | None = None, cert_url: str = CERT_URL
) -> tuple[dict[str, str], bytes]:
    """(headers, body) for an envelope, signed with ``key`` (default: the good leaf)."""
    body = envelope_body(envelope)
    return signed_headers(body, key, cert_url), body
