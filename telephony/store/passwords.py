"""Agent passwords: scrypt from the standard library, parameters kept with the hash.

A stored hash reads ``scrypt$<n>$<r>$<p>$<salt>$<key>`` (salt and key in base64), so the
cost can be raised later without invalidating existing passwords.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1  # 16 MiB of memory per hash
KEY_BYTES = 32
SALT_BYTES = 16
_MAX_MEM = 64 * 1024 * 1024


def _key(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=_MAX_MEM, dklen=KEY_BYTES)


def hash_password(password: str) -> str:
    """A new salted hash of `password`."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _key(password, salt, N, R, P)
    b64 = base64.b64encode
    return f"scrypt${N}${R}${P}${b64(salt).decode()}${b64(key).decode()}"


def check_password(password: str, stored: str) -> bool:
    """Whether `password` matches `stored`; malformed hashes never match."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key, validate=True)
        actual = _key(password, base64.b64decode(salt, validate=True), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def dummy_hash() -> str:
    """Checked against when a user does not exist, so that costs as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))
