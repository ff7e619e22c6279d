"""Recordings at rest: chunked AES-256-GCM under a random data key per recording, the key wrapped.

A sealed file is a header and a sequence of chunks::

    header  = MAGIC (8 bytes) | file number (4 bytes, big-endian)
    chunk   = ciphertext length (4 bytes, big-endian) | AES-GCM ciphertext with its 16-byte tag

Chunk ``i`` of file ``n`` is sealed with the nonce ``n (4 bytes) | i (8 bytes)``: a data key belongs to
one recording only, the file number is unique within a recording and the index only grows, so no nonce
is ever used twice under a key. The associated data of each chunk is the header, the chunk's index and
a final flag, so chunks cannot be reordered, moved to another file or dropped: a file whose last chunk
is not marked final was cut (the process died while writing it, or someone removed its end), and the
reader says so instead of passing the shortened plaintext off as complete.

The data key is wrapped with AES key wrap (RFC 3394) under a key derived from the master secret in the
settings; only the wrapped key is stored beside the recording's row, so a copy of the database and the
recordings directory without the master secret reveals nothing.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

MAGIC = b"SKREC\x01\r\n"
_HEADER = struct.Struct("!8sI")
_LENGTH = struct.Struct("!I")
_AAD_TAIL = struct.Struct("!QB")
DATA_KEY_BYTES = 32
TAG_BYTES = 16
DEFAULT_CHUNK_BYTES = 64 * 1024
MAX_CHUNK_BYTES = 4 * 1024 * 1024  # a reader refuses longer lengths instead of allocating them


class SealedFileError(Exception):
    """The file is not a sealed recording, was altered, or the key does not fit."""


class UnfinishedFileError(SealedFileError):
    """The file ends without its final chunk: it was cut (a crash while recording, or tampering)."""


def new_data_key() -> bytes:
    """A fresh random data key for one recording."""
    return os.urandom(DATA_KEY_BYTES)


class KeyWrapper:
    """Wraps and unwraps recordings' data keys under the master secret (``SAMKONSULT_RECORDING_KEY``)."""

    def __init__(self, master_secret: str) -> None:
        if len(master_secret) < 16:
            raise ValueError("the recording master secret must have at least 16 characters")
        self._kek = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                         info=b"samkonsult recording key wrap v1").derive(master_secret.encode("utf-8"))

    def wrap(self, data_key: bytes) -> bytes:
        return aes_key_wrap(self._kek, data_key)

    def unwrap(self, wrapped: bytes) -> bytes:
        try:
            return aes_key_unwrap(self._kek, wrapped)
        except InvalidUnwrap as exc:
            raise SealedFileError("the recording's key does not open under this master secret") from exc


def _nonce(file_number: int, index: int) -> bytes:
    return struct.pack("!IQ", file_number, index)


class SealedWriter:
    """A write-only file object that seals what it is given, chunk by chunk.

    ``write`` buffers; a full chunk is sealed and written at once, ``flush`` seals what is buffered
    (the recorder calls it every second, so a crash loses at most that), ``close`` seals the final
    chunk and syncs the file to disk.
    """

    def __init__(self, file: BinaryIO, data_key: bytes, file_number: int,
                 chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> None:
        if not 0 < chunk_bytes <= MAX_CHUNK_BYTES:
            raise ValueError("chunk size out of range")
        self._file = file
        self._aead = AESGCM(data_key)
        self._header = _HEADER.pack(MAGIC, file_number)
        self._file_number = file_number
        self._chunk_bytes = chunk_bytes
        self._buffer = bytearray()
        self._index = 0
        self._closed = False
        self.bytes_written = 0
        self._emit(self._header)

    def _emit(self, data: bytes) -> None:
        self._file.write(data)
        self._file.flush()
        self.bytes_written += len(data)

    def _seal(self, plaintext: bytes, final: bool) -> None:
        aad = self._header + _AAD_TAIL.pack(self._index, 1 if final else 0)
        sealed = self._aead.encrypt(_nonce(self._file_number, self._index), plaintext, aad)
        self._index += 1
        self._emit(_LENGTH.pack(len(sealed)) + sealed)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._closed:
            raise ValueError("write to a closed sealed file")
        self._buffer += data
        while len(self._buffer) >= self._chunk_bytes:
            chunk = bytes(self._buffer[: self._chunk_bytes])
            del self._buffer[: self._chunk_bytes]
            self._seal(chunk, final=False)
        return len(data)

    def flush(self) -> None:
        """Seal and write what is buffered (as a chunk that is not the last)."""
        if self._buffer and not self._closed:
            chunk = bytes(self._buffer)
            self._buffer.clear()
            self._seal(chunk, final=False)

    def close(self) -> None:
        """Seal the final chunk, sync and close the file. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            chunk = bytes(self._buffer)
            self._buffer.clear()
            self._seal(chunk, final=True)
            os.fsync(self._file.fileno())
        finally:
            self._file.close()


def open_sealed(file: BinaryIO, data_key: bytes, *, allow_unfinished: bool = False) -> Iterator[bytes]:
    """Yield the plaintext of a sealed file chunk by chunk, each checked before it is yielded.

    A file without its final chunk raises :class:`UnfinishedFileError` after its last whole chunk, or,
    with ``allow_unfinished`` (reading what a crashed recorder left), ends there quietly.
    """
    header = file.read(_HEADER.size)
    if len(header) != _HEADER.size:
        raise SealedFileError("not a sealed recording (short header)")
    magic, file_number = _HEADER.unpack(header)
    if magic != MAGIC:
        raise SealedFileError("not a sealed recording")
    aead = AESGCM(data_key)
    index = 0
    while True:
        length_bytes = file.read(_LENGTH.size)
        if len(length_bytes) < _LENGTH.size:
            break
        (length,) = _LENGTH.unpack(length_bytes)
        if not TAG_BYTES <= length <= MAX_CHUNK_BYTES + TAG_BYTES:
            raise SealedFileError(f"chunk {index} has an impossible length")
        sealed = file.read(length)
        if len(sealed) < length:
            break
        nonce = _nonce(file_number, index)
        for final in (0, 1):
            try:
                plaintext = aead.decrypt(nonce, sealed, header + _AAD_TAIL.pack(index, final))
            except InvalidTag:
                continue
            break
        else:
            raise SealedFileError(f"chunk {index} was altered, moved or sealed with another key")
        index += 1
        if plaintext:
            yield plaintext
        if final:
            if file.read(1):
                raise SealedFileError("data after the final chunk")
            return
    if not allow_unfinished:
        raise UnfinishedFileError(f"the file ends after chunk {index - 1} without its final chunk")
