"""Sealed recording files: chunked AES-GCM, each chunk bound to its file, place and finality."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from recordings_policy.sealed_file import (
    KeyWrapper,
    SealedFileError,
    SealedWriter,
    UnfinishedFileError,
    new_data_key,
    open_sealed,
)


def _seal(path: Path, key: bytes, data: bytes, *, file_number: int = 0, chunk: int = 1000) -> None:
    writer = SealedWriter(open(path, "xb"), key, file_number, chunk_bytes=chunk)
    writer.write(data[:1500])
    writer.flush()
    writer.write(data[1500:])
    writer.close()


def _read(path: Path, key: bytes, **kwargs: bool) -> bytes:
    with open(path, "rb") as fh:
        return b"".join(open_sealed(fh, key, **kwargs))


def _chunks(raw: bytes) -> list[tuple[int, int]]:
    """(offset, length) of each chunk after the 12-byte header."""
    spans, at = [], 12
    while at < len(raw):
        length = int.from_bytes(raw[at:at + 4], "big")
        spans.append((at, 4 + length))
        at += 4 + length
    return spans


def test_round_trip_and_no_plaintext_on_disk(tmp_path: Path) -> None:
    key, data = new_data_key(), os.urandom(2000) + b"VISIBLE-MARKER" * 300
    path = tmp_path / "r.sealed"
    _seal(path, key, data)
    assert _read(path, key) == data
    assert b"VISIBLE-MARKER" not in path.read_bytes()


def test_wrong_key_altered_byte_reordered_or_cut_chunks_are_refused(tmp_path: Path) -> None:
    key, data = new_data_key(), os.urandom(5000)
    path = tmp_path / "r.sealed"
    _seal(path, key, data)
    raw = path.read_bytes()
    spans = _chunks(raw)
    assert len(spans) >= 4

    with pytest.raises(SealedFileError):
        _read(path, new_data_key())

    flipped = bytearray(raw)
    flipped[spans[1][0] + 10] ^= 1
    path.write_bytes(bytes(flipped))
    with pytest.raises(SealedFileError):
        _read(path, key)

    (a, la), (b, lb) = spans[0], spans[1]
    swapped = raw[:a] + raw[b:b + lb] + raw[a:a + la] + raw[b + lb:]
    path.write_bytes(swapped)
    with pytest.raises(SealedFileError):
        _read(path, key)

    last = spans[-1][0]
    path.write_bytes(raw[:last])  # the final chunk removed: the rest is authentic, but cut
    with pytest.raises(UnfinishedFileError):
        _read(path, key)
    assert _read(path, key, allow_unfinished=True) == data[:len(_read_prefix(raw[:last], key))]

    path.write_bytes(raw + raw[spans[0][0]:spans[0][0] + spans[0][1]])
    with pytest.raises(SealedFileError):
        _read(path, key)


def _read_prefix(raw: bytes, key: bytes) -> bytes:
    return b"".join(open_sealed(io.BytesIO(raw), key, allow_unfinished=True))


def test_a_chunk_cannot_move_to_another_part_of_the_same_recording(tmp_path: Path) -> None:
    key = new_data_key()
    _seal(tmp_path / "0", key, b"a" * 3000, file_number=0)
    _seal(tmp_path / "1", key, b"b" * 3000, file_number=1)
    raw0, raw1 = (tmp_path / "0").read_bytes(), (tmp_path / "1").read_bytes()
    # part 1's chunks under part 0's header
    (tmp_path / "mixed").write_bytes(raw0[:12] + raw1[12:])
    with pytest.raises(SealedFileError):
        _read(tmp_path / "mixed", key)


def test_nonces_are_never_reused_across_chunks_and_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.hazmat.primitives.ciphers import aead

    seen: list[bytes] = []
    original = aead.AESGCM.encrypt

    def spy(self: aead.AESGCM, nonce: bytes, data: bytes, associated: bytes | None) -> bytes:
        seen.append(nonce)
        return original(self, nonce, data, associated)

    monkeypatch.setattr(aead.AESGCM, "encrypt", spy)
    key = new_data_key()
    for number in range(3):
        _seal(tmp_path / str(number), key, os.urandom(4000), file_number=number)
    assert len(seen) > 10
    assert len(set(seen)) == len(seen)


def test_key_wrapping_under_the_master_secret() -> None:
    wrapper = KeyWrapper("a master secret of enough length")
    key = new_data_key()
    wrapped = wrapper.wrap(key)
    assert key not in wrapped
    assert wrapper.unwrap(wrapped) == key
    with pytest.raises(SealedFileError):
        KeyWrapper("another master secret entirely").unwrap(wrapped)
    with pytest.raises(ValueError):
        KeyWrapper("short")
