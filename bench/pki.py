"""A throwaway Alexa-like PKI on disk, shared by a benchmark's server and its client.

``python -m bench.pki DIR`` writes ``root.pem`` (the trust root the server
injects), ``chain.pem`` (what the certificate URL serves) and ``leaf-key.pem``
(what the client signs with).
"""
from __future__ import annotations

import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from testkit.alexa_certs import CERT_URL, SKILL_ID, make_pki

__all__ = ["CERT_URL", "SKILL_ID", "write_pki", "load_root", "load_chain", "load_key"]


def write_pki(directory: Path) -> None:
    pki = make_pki("Bench")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "root.pem").write_bytes(pki.root.cert.public_bytes(serialization.Encoding.PEM))
    (directory / "chain.pem").write_bytes(pki.pem)
    (directory / "leaf-key.pem").write_bytes(pki.leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def load_root(directory: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate((directory / "root.pem").read_bytes())


def load_chain(directory: Path) -> bytes:
    return (directory / "chain.pem").read_bytes()


def load_key(directory: Path) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key((directory / "leaf-key.pem").read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


if __name__ == "__main__":
    write_pki(Path(sys.argv[1]))
