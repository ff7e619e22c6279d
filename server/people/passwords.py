"""Password hashing with Argon2id.

Parameters follow OWASP's minimum for Argon2id (19 MiB, two passes); raising them later is
safe because ``needs_rehash`` upgrades a stored hash at the next login.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MEMORY_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1
MIN_LENGTH = 10

_hasher = PasswordHasher(
    time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM, hash_len=32, salt_len=16,
    type=Type.ID,
)
# Verified against when the user does not exist, so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")


def hash_password(password: str) -> str:
    """Hash a password with Argon2id."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash still costs one verification."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


async def hash_off_loop(password: str) -> str:
    """:func:`hash_password` in a worker thread.

    Argon2 is 20 to 50 ms of CPU by design (argon2-cffi lets go of the GIL meanwhile); on the serving
    loop every call's signaling would wait that long for each login or password change.
    """
    return await asyncio.to_thread(hash_password, password)


async def verify_off_loop(stored_hash: str | None, password: str) -> bool:
    """:func:`verify_password` in a worker thread (see :func:`hash_off_loop`)."""
    return await asyncio.to_thread(verify_password, stored_hash, password)


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def password_problem(password: str) -> str | None:
    """A message code when a new password is too weak, else None."""
    if len(password) < MIN_LENGTH:
        return "password_too_short"
    if password.strip() != password:
        return "password_whitespace"
    return None
