"""Prove that an HTTP request came from Alexa (Amazon's web-service checklist).

A skill hosted as a web service must reject anything Alexa did not sign:

1. ``SignatureCertChainUrl`` points at Amazon's bucket (``check_cert_url``).
2. The PEM chain there is trusted, in date and names ``echo-api.amazon.com``
   (``parse_chain`` / ``validate_chain``).
3. ``Signature-256`` is the leaf key's RSA/SHA-256 signature of the raw body
   (``check_signature``).
4. ``request.timestamp`` is fresh (``check_timestamp``) and the application id
   is ours (``skill.appid.check_application_id``).

``Verifier.verify`` runs them all, caches validated chains per URL and raises
``VerificationError`` (and nothing else) with a short reason that carries no
user data, so callers can log it and answer HTTP 400.

Everything that needs no network comes before the certificate fetch (the URL's
form, the signature's form, the timestamp, the skill id), so only a request
with a well-formed signature and a fresh timestamp can cause a fetch. Fetches
of a URL never validated are budgeted per client (``max_fetches_per_client``)
and in total (``max_fetches``) per window: an unsigned request can cause at
most a bounded number of outbound requests, and one client spending its budget
does not spend anyone else's. A URL whose chain validated before may always be
fetched again (its failures still back off), and ``Verifier.warm`` can fill
the cache at boot, so a restart or an attack on the budget never locks Alexa
out of a URL it already uses.
"""

from __future__ import annotations

import base64
import binascii
import functools
import ipaddress
import logging
import posixpath
import re
import threading
import time
import warnings
from collections import OrderedDict, deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import certifi
import requests
import urllib3
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509 import verification as x509v

from skill.appid import WrongApplication, check_application_id, dig

__all__ = [
    "VerificationError",
    "Verifier",
    "HttpFetcher",
    "KNOWN_CERT_URL",
    "client_key",
    "check_cert_url",
    "check_timestamp",
    "check_signature",
    "decode_signature",
    "parse_chain",
    "validate_chain",
    "TrustedChain",
]

log = logging.getLogger(__name__)

ECHO_API_SAN = "echo-api.amazon.com"
CERT_HOST = "s3.amazonaws.com"
CERT_PATH_PREFIX = "/echo.api/"
TIMESTAMP_TOLERANCE = timedelta(seconds=150)
SKILL_EVENT_TOLERANCE = timedelta(hours=1)
FETCH_TIMEOUT = 2.0
# An RSA signature is as long as the key's modulus: 1024 to 8192 bits.
SIGNATURE_BYTES = range(128, 1025)
MAX_CHAIN_BYTES = 32 * 1024
MAX_CHAIN_CERTS = 8
# The form of URL Amazon's documentation shows; ``Verifier.warm`` fetches it at
# boot when asked. Amazon may move to another name under /echo.api/: the log
# names every URL whose chain is cached, so the live one can be configured.
KNOWN_CERT_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert.pem"

Clock = Callable[[], datetime]
Fetcher = Callable[[str], bytes]


class VerificationError(Exception):
    """The request is not provably from Alexa; ``reason`` is a short, data-free phrase.

    ``transient`` marks failures that may pass on a retry (a timeout, a dropped
    connection, a 5xx): the verifier backs off from those only briefly.
    """

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


# --- pure checks -------------------------------------------------------------

# Scheme and host are case-insensitive, the port may only be 443. The path is
# limited to plain characters: Amazon's URLs use nothing else, and refusing
# '%', '\\', '?' and '#' leaves no encoding trick for reaching another key.
_CERT_URL = re.compile(
    r"https://s3\.amazonaws\.com(?::443)?(?P<path>/[A-Za-z0-9._~/-]*)", re.IGNORECASE
)


def check_cert_url(url: str) -> str:
    """Return the normalised cert URL (``..`` resolved, no port) or raise.

    The path prefix check is case-sensitive and runs after normalisation, and
    the normalised URL is what gets fetched and cached.
    """
    if not isinstance(url, str) or len(url) > 2048:
        raise VerificationError("bad cert url")
    match = _CERT_URL.fullmatch(url)
    if match is None:
        raise VerificationError("bad cert url")
    path = posixpath.normpath(match["path"])
    if not path.startswith(CERT_PATH_PREFIX):
        raise VerificationError("bad cert url")
    return f"https://{CERT_HOST}{path}"


def check_timestamp(envelope: Mapping[str, Any], now: datetime) -> None:
    """Refuse replays: ``request.timestamp`` within 150 s of now (1 h for skill events)."""
    raw = dig(envelope, "request", "timestamp")
    if raw is None:
        raise VerificationError("missing timestamp")
    if not isinstance(raw, str) or len(raw) > 64:
        raise VerificationError("bad timestamp")
    try:
        stamp = datetime.fromisoformat(raw)
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=timezone.utc)
        age = now - stamp
    except (ValueError, OverflowError):
        raise VerificationError("bad timestamp") from None
    request_type = dig(envelope, "request", "type")
    tolerance = (
        SKILL_EVENT_TOLERANCE
        if isinstance(request_type, str) and request_type.startswith("AlexaSkillEvent.")
        else TIMESTAMP_TOLERANCE
    )
    if age > tolerance:
        raise VerificationError("stale timestamp")
    if -age > tolerance:
        raise VerificationError("future timestamp")


def parse_chain(pem: bytes) -> list[x509.Certificate]:
    """The certificates in a PEM chain, leaf first."""
    if not isinstance(pem, (bytes, bytearray)):
        raise VerificationError("bad cert pem")
    try:
        certs = x509.load_pem_x509_certificates(bytes(pem))
    except ValueError:
        raise VerificationError("bad cert pem") from None
    if not 1 <= len(certs) <= MAX_CHAIN_CERTS:
        raise VerificationError("bad cert pem")
    return certs


@dataclass(frozen=True)
class TrustedChain:
    """What a warm request needs from a validated chain."""

    public_key: rsa.RSAPublicKey
    expires: datetime  # earliest not_valid_after in the validated path


# The EE policy is the WebPKI default except for ExtendedKeyUsage, which is
# accepted whatever it says. A server verifier otherwise insists that a
# present EKU lists serverAuth (and refuses anyExtendedKeyUsage). Amazon's
# signing certificate is issued by a public TLS CA (Amazon RSA 2048 M0x) and
# has carried serverAuth, but EKU describes TLS roles, not request signing,
# and Amazon promises nothing about it. Trust rests on what Amazon does
# document: a path to a trusted root, the dates, and the exact SAN below.
_EE_POLICY = x509v.ExtensionPolicy.webpki_defaults_ee().may_be_present(
    x509.ExtendedKeyUsage, x509v.Criticality.AGNOSTIC, None
)
_CA_POLICY = x509v.ExtensionPolicy.webpki_defaults_ca()


def _names_echo_api(leaf: x509.Certificate) -> bool:
    """Exact SAN match: the server verifier alone would also accept ``*.amazon.com``."""
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return any(name.lower() == ECHO_API_SAN for name in san.get_values_for_type(x509.DNSName))


def validate_chain(
    certs: list[x509.Certificate], store: x509v.Store, now: datetime
) -> TrustedChain:
    """Check the leaf (dates, SAN, RSA key) and its path to a root in ``store`` at ``now``.

    Uses ``build_server_verifier(DNSName("echo-api.amazon.com"))``: it builds
    the path (untrusted intermediates as supplied), checks every signature,
    validity date, CA constraint and the SAN. See ``_EE_POLICY`` for EKU.
    """
    leaf = certs[0]
    if now < leaf.not_valid_before_utc:
        raise VerificationError("cert not yet valid")
    if now > leaf.not_valid_after_utc:
        raise VerificationError("cert expired")
    if not _names_echo_api(leaf):
        raise VerificationError("cert san mismatch")
    verifier = (
        x509v.PolicyBuilder()
        .store(store)
        .time(now)
        .extension_policies(ca_policy=_CA_POLICY, ee_policy=_EE_POLICY)
        .build_server_verifier(x509.DNSName(ECHO_API_SAN))
    )
    try:
        path = verifier.verify(leaf, certs[1:])
    except x509v.VerificationError:
        raise VerificationError("cert chain untrusted") from None
    key = leaf.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise VerificationError("cert key not rsa")
    return TrustedChain(key, min(cert.not_valid_after_utc for cert in path))


def decode_signature(signature: str) -> bytes:
    """The signature's bytes, if it has the form of one: strict base64, RSA-sized."""
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError("bad signature encoding") from None
    if len(raw) not in SIGNATURE_BYTES:
        raise VerificationError("bad signature encoding")
    return raw


def check_signature(public_key: rsa.RSAPublicKey, signature: str, body: bytes) -> None:
    """``Signature-256``: base64 RSA PKCS#1 v1.5 SHA-256 over the exact body bytes."""
    raw = decode_signature(signature)
    try:
        public_key.verify(raw, body, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise VerificationError("signature mismatch") from None


# --- fetching ----------------------------------------------------------------


@dataclass
class _Download:
    url: str
    done: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    body: bytes = b""
    error: VerificationError | None = None


class HttpFetcher:
    """Default fetcher: GET with ``requests`` under a hard wall-clock deadline.

    requests' timeouts bound each socket operation, not the exchange, so a
    server that trickles a byte a second (or a slow DNS lookup) could hold a
    plain GET for minutes. The download therefore runs in a daemon thread and
    the caller waits at most ``timeout`` seconds. An abandoned download stops
    at its next chunk, or when its own socket timeouts fire; ``max_parallel``
    caps how many can be in flight. Redirects are not followed, anything but
    200 fails, and bodies over ``max_bytes`` are refused.
    """

    def __init__(
        self,
        timeout: float = FETCH_TIMEOUT,
        max_bytes: int = MAX_CHAIN_BYTES,
        max_parallel: int = 4,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._slots = threading.BoundedSemaphore(max_parallel)

    def __call__(self, url: str) -> bytes:
        deadline = time.monotonic() + self.timeout
        if not self._slots.acquire(timeout=self.timeout):
            raise VerificationError("cert fetch failed: busy", transient=True)
        job = _Download(url)
        try:
            threading.Thread(
                target=self._run, args=(job,), name="alexa-cert-fetch", daemon=True
            ).start()
        except BaseException:
            self._slots.release()
            raise
        if not job.done.wait(max(0.0, deadline - time.monotonic())):
            job.cancelled.set()
            raise VerificationError("cert fetch failed: timeout", transient=True)
        if job.error is not None:
            raise job.error
        return job.body

    def _run(self, job: _Download) -> None:
        try:
            job.body = self._download(job)
        except VerificationError as exc:
            job.error = exc
        except (requests.Timeout, urllib3.exceptions.TimeoutError):
            job.error = VerificationError("cert fetch failed: timeout", transient=True)
        except (requests.ConnectionError, urllib3.exceptions.HTTPError):
            job.error = VerificationError("cert fetch failed: connection", transient=True)
        except Exception:
            job.error = VerificationError("cert fetch failed: error", transient=True)
        finally:
            self._slots.release()
            job.done.set()

    def _download(self, job: _Download) -> bytes:
        with requests.get(
            job.url,
            stream=True,
            allow_redirects=False,
            timeout=(self.timeout, self.timeout),
            headers={"Accept-Encoding": "identity"},
        ) as response:
            if response.status_code >= 500:
                raise VerificationError("cert fetch failed: server error", transient=True)
            if response.status_code != 200:
                raise VerificationError("cert fetch failed: http status")
            declared = response.headers.get("Content-Length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > self.max_bytes:
                raise VerificationError("cert fetch failed: too large")
            body = bytearray()
            # read1 returns whatever arrived, so the cancel flag is seen promptly.
            while chunk := response.raw.read1(4096, decode_content=False):
                if job.cancelled.is_set():
                    raise VerificationError("cert fetch failed: timeout", transient=True)
                body += chunk
                if len(body) > self.max_bytes:
                    raise VerificationError("cert fetch failed: too large")
            return bytes(body)


# --- the verifier ------------------------------------------------------------


def client_key(address: str | None) -> str:
    """Whose fetch budget a request spends: its peer address, an IPv6 one by /64.

    One IPv6 host commonly holds a whole /64, so keying on full addresses would
    give it billions of budgets. Anything that is not an address (a Unix
    socket, a missing value) shares one key.
    """
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return "-"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


@functools.lru_cache(maxsize=1)
def _certifi_roots() -> tuple[x509.Certificate, ...]:
    """certifi's roots, one by one: a root cryptography dislikes (one has a
    non-positive serial, deprecated now, an error later) must not sink the rest."""
    with open(certifi.where(), "rb") as bundle:
        blocks = _PEM_BLOCK.findall(bundle.read())
    roots = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        for block in blocks:
            try:
                roots.append(x509.load_pem_x509_certificate(block))
            except ValueError:
                continue
    return tuple(roots)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive lookup that works for plain dicts and Werkzeug headers."""
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next(
            (v for k, v in headers.items() if isinstance(k, str) and k.lower() == wanted),
            None,
        )
    return value if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True)
class _Failure:
    reason: str
    retry_at: datetime


class Verifier:
    """Verify Alexa requests; thread-safe, caches trusted chains per cert URL.

    A warm request does no network I/O and no chain validation: the chain's
    public key is cached (LRU, ``cache_size`` URLs) until the earliest expiry in
    its validated path. A URL whose chain was refused (bad PEM, untrusted,
    expired, wrong name) or answered 4xx is not retried for ``failure_backoff``
    seconds and fails fast with the same reason; after a transient failure
    (timeout, connection, 5xx) only for ``transient_backoff`` seconds, so one
    network hiccup does not refuse Alexa for long. Concurrent cold requests for
    one URL share a single fetch. A URL whose chain never validated is fetched
    only within two budgets per ``fetch_window`` seconds: ``max_fetches_per_client``
    for the requesting client (``client_key``; ``client_budgets`` clients are
    tracked) and ``max_fetches`` in all. A URL that validated before (the last
    ``cache_size`` * 4 such URLs) may always be fetched again. ``clock``,
    ``fetcher`` and ``trust_roots`` (default: certifi's bundle) are injectable.
    """

    def __init__(
        self,
        skill_ids: Collection[str],
        *,
        trust_roots: Collection[x509.Certificate] | None = None,
        clock: Clock | None = None,
        fetcher: Fetcher | None = None,
        cache_size: int = 16,
        failure_backoff: float = 30.0,
        transient_backoff: float = 2.0,
        failure_cache_size: int = 64,
        max_fetches: int = 30,
        max_fetches_per_client: int = 3,
        client_budgets: int = 4096,
        fetch_window: float = 60.0,
    ) -> None:
        if isinstance(skill_ids, str):
            raise TypeError("skill_ids must be a collection; see parse_skill_ids()")
        self.skill_ids = frozenset(skill_ids)
        if not self.skill_ids:
            raise ValueError("no skill ids configured")
        if min(cache_size, failure_cache_size, max_fetches, max_fetches_per_client, client_budgets) < 1:
            raise ValueError("cache sizes and the fetch caps must be positive")
        if min(failure_backoff, transient_backoff, fetch_window) < 0:
            raise ValueError("back-offs and the fetch window must be non-negative")
        roots = list(trust_roots) if trust_roots is not None else list(_certifi_roots())
        self._store = x509v.Store(roots)
        self._clock = clock or _utcnow
        self._fetch = fetcher or HttpFetcher()
        self._cache_size = cache_size
        self._failure_cache_size = failure_cache_size
        self._backoff = timedelta(seconds=failure_backoff)
        self._transient_backoff = timedelta(seconds=transient_backoff)
        self._max_fetches = max_fetches
        self._max_client_fetches = max_fetches_per_client
        self._client_budgets = client_budgets
        self._fetch_window = timedelta(seconds=fetch_window)
        self._fetches: deque[datetime] = deque()  # start times within the window
        self._client_fetches: OrderedDict[str, deque[datetime]] = OrderedDict()
        self._validated: OrderedDict[str, None] = OrderedDict()  # URLs whose chain was good once
        self._lock = threading.Lock()
        self._chains: OrderedDict[str, TrustedChain] = OrderedDict()
        self._failures: OrderedDict[str, _Failure] = OrderedDict()
        self._inflight: dict[str, threading.Lock] = {}

    def verify(self, headers: Mapping[str, str], body: bytes, envelope: Mapping[str, Any],
               client: str | None = None) -> None:
        """Return if the request is provably from Alexa for our skill, else raise.

        ``client`` is the peer's address: whose budget a certificate fetch spends.
        """
        try:
            self._verify(headers, body, envelope, client)
        except VerificationError as exc:
            log.debug("alexa request refused: %s", exc.reason)
            raise
        except Exception as exc:  # never let odd input escape as a 500
            log.warning("alexa request refused: unexpected %s", type(exc).__name__)
            raise VerificationError("malformed request") from None

    def _verify(self, headers: Mapping[str, str], body: bytes, envelope: Mapping[str, Any],
                client: str | None) -> None:
        now = self._now()
        cert_url = _header(headers, "SignatureCertChainUrl")
        if cert_url is None:
            raise VerificationError("missing cert url header")
        signature = _header(headers, "Signature-256")
        if signature is None:
            raise VerificationError("missing signature header")
        url = check_cert_url(cert_url)
        decode_signature(signature)
        if not isinstance(body, (bytes, bytearray, memoryview)):
            raise VerificationError("bad body")
        if not isinstance(envelope, Mapping):
            raise VerificationError("bad envelope")
        # Cheap checks first: malformed, stale or foreign requests cost no fetch.
        check_timestamp(envelope, now)
        try:
            check_application_id(envelope, self.skill_ids)
        except WrongApplication as exc:
            raise VerificationError(str(exc)) from None
        check_signature(self._trusted(url, now, client).public_key, signature, bytes(body))

    def _now(self) -> datetime:
        now = self._clock()
        return now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)

    def warm(self, urls: Collection[str]) -> int:
        """Fetch and validate ``urls`` before any request needs them (at boot); how many are now cached.

        No budget is spent and nothing raises: a URL that fails is logged and
        left to the first request that names it.
        """
        cached = 0
        for raw in urls:
            try:
                url = check_cert_url(raw)
                self._trusted(url, self._now(), None, budgeted=False)
            except VerificationError as exc:
                log.warning("alexa cert warm-up failed: %s", exc.reason)
            else:
                cached += 1
        return cached

    def _trusted(self, url: str, now: datetime, client: str | None, *, budgeted: bool = True) -> TrustedChain:
        with self._lock:
            chain = self._cached(url, now)
            if chain is not None:
                return chain
            gate = self._inflight.setdefault(url, threading.Lock())
        try:
            with gate:  # one fetch per URL; waiters then find the cache filled
                with self._lock:
                    chain = self._cached(url, now)
                if chain is not None:
                    return chain
                if budgeted:
                    with self._lock:
                        if url not in self._validated:
                            self._take_fetch(now, client)
                try:
                    chain = self._load(url, now)
                except VerificationError as exc:
                    log.warning("alexa cert chain refused: %s", exc.reason)
                    with self._lock:
                        self._remember_failure(url, exc, now)
                    raise
                with self._lock:
                    self._remember(url, chain)
                log.info("alexa cert chain cached: %s until %s", url, chain.expires.isoformat())
                return chain
        finally:
            with self._lock:
                if self._inflight.get(url) is gate:
                    del self._inflight[url]

    def _load(self, url: str, now: datetime) -> TrustedChain:
        """Fetch, parse and validate; any surprise becomes a VerificationError."""
        try:
            pem = self._fetch(url)
        except VerificationError:
            raise
        except Exception:
            raise VerificationError("cert fetch failed: error", transient=True) from None
        try:
            return validate_chain(parse_chain(pem), self._store, now)
        except VerificationError:
            raise
        except Exception:
            raise VerificationError("bad cert") from None

    def _cached(self, url: str, now: datetime) -> TrustedChain | None:
        """Cached chain, or None to (re)fetch; raises during a failure back-off. Hold the lock."""
        chain = self._chains.get(url)
        if chain is not None:
            if now < chain.expires:
                self._chains.move_to_end(url)
                return chain
            del self._chains[url]
        failure = self._failures.get(url)
        if failure is not None:
            if now < failure.retry_at:
                raise VerificationError(failure.reason)
            del self._failures[url]
        return None

    def _remember(self, url: str, chain: TrustedChain) -> None:
        self._failures.pop(url, None)
        self._chains[url] = chain
        self._chains.move_to_end(url)
        while len(self._chains) > self._cache_size:
            self._chains.popitem(last=False)
        self._validated[url] = None
        self._validated.move_to_end(url)
        while len(self._validated) > 4 * self._cache_size:
            self._validated.popitem(last=False)

    def _take_fetch(self, now: datetime, client: str | None) -> None:
        """Count one fetch against the client's budget and the total, or refuse it; hold the lock.

        Not remembered as the URL's failure: the cap says nothing about the URL.
        """
        window = self._fetch_window
        _expire(self._fetches, now, window)
        key = client_key(client)
        mine = self._client_fetches.get(key)
        if mine is not None:
            _expire(mine, now, window)
            self._client_fetches.move_to_end(key)
        if mine is not None and len(mine) >= self._max_client_fetches:
            log.warning("alexa cert fetch refused: client over its %d fetches in %.0f s",
                        self._max_client_fetches, window.total_seconds())
            raise VerificationError("cert fetch refused: rate limited", transient=True)
        if len(self._fetches) >= self._max_fetches:
            log.warning("alexa cert fetch refused: %d fetches in the last %.0f s",
                        len(self._fetches), window.total_seconds())
            raise VerificationError("cert fetch refused: rate limited", transient=True)
        if mine is None:
            mine = self._client_fetches[key] = deque()
            while len(self._client_fetches) > self._client_budgets:
                self._client_fetches.popitem(last=False)
        mine.append(now)
        self._fetches.append(now)

    def _remember_failure(self, url: str, exc: VerificationError, now: datetime) -> None:
        backoff = self._transient_backoff if exc.transient else self._backoff
        self._failures[url] = _Failure(exc.reason, now + backoff)
        self._failures.move_to_end(url)
        while len(self._failures) > self._failure_cache_size:
            self._failures.popitem(last=False)


def _expire(starts: deque[datetime], now: datetime, window: timedelta) -> None:
    """Drop fetch start times that have left the window."""
    while starts and now - starts[0] >= window:
        starts.popleft()
