"""The local API's key: generated once, shown once, kept only as a scrypt hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1


def new_key() -> str:
    return "lantern-" + secrets.token_urlsafe(32)


def hash_key(key: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (hex)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(key.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def verify_key(key: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            key.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


class KeyCheck:
    """Checks ``Authorization: Bearer KEY`` against the stored hash; a key once verified
    is remembered (by its SHA-256) so scrypt runs once per key, not per request."""

    def __init__(self, stored_hash: str | None) -> None:
        self.stored = stored_hash
        self._good: set[str] = set()

    @property
    def required(self) -> bool:
        return self.stored is not None

    def ok(self, header: str | None) -> bool:
        if self.stored is None:
            return True
        if not header or not header.lower().startswith("bearer "):
            return False
        key = header[7:].strip()
        fingerprint = hashlib.sha256(key.encode()).hexdigest()
        if fingerprint in self._good:
            return True
        if verify_key(key, self.stored):
            self._good.add(fingerprint)
            return True
        return False
