"""The output pump cuts over-long lines only where no secret straddles the cut."""

from __future__ import annotations

import asyncio

import pytest

from refarch_tui import secrets
from refarch_tui.run.terragrunt_exec import CHUNK, MAX_LINE, pump

SECRET = "Zq8!hunter2-correct-horse-battery"


class Pieces:
    """Collects what the pump passes on, redacted as the account session does."""

    def __init__(self) -> None:
        self.pieces: list[str] = []

    def ingest(self, raw: str, stream: str = "stderr") -> None:
        self.pieces.append(secrets.redact(raw))

    def ingest_block(self, text: str, stream: str) -> None:
        self.pieces.extend(secrets.redact(text).split("\n"))

    def flush(self) -> None:
        pass


def _line_with_secret_at_every_chunk_boundary(size: int) -> bytes:
    out = bytearray(b"y" * size)
    data = SECRET.encode()
    for boundary in range(CHUNK, size - len(data), CHUNK):
        start = boundary - len(data) // 2
        out[start : start + len(data)] = data
    return bytes(out)


@pytest.mark.parametrize("shift", [0, 1, 17, len(SECRET) - 1])
async def test_an_over_long_line_is_cut_only_outside_secrets(shift: int) -> None:
    secrets.register_secret(SECRET)
    secrets.register_secret("a-shorter-one-42")
    data = b"z" * shift + _line_with_secret_at_every_chunk_boundary(2 << 20) + b"\ntail line\n"
    reader = asyncio.StreamReader()
    for start in range(0, len(data), CHUNK):  # reads end exactly on the 64 KiB boundaries
        reader.feed_data(data[start : start + CHUNK])
    reader.feed_eof()
    sink = Pieces()
    await pump(reader, "stdout", sink)  # type: ignore[arg-type]
    joined = "".join(sink.pieces)
    assert len(sink.pieces) >= 3 and all(len(p) <= MAX_LINE + CHUNK for p in sink.pieces)
    assert SECRET not in joined
    assert joined.count(secrets.REDACTED) == data.count(SECRET.encode())
    assert sink.pieces[-1] == "tail line"


async def test_a_secret_assignment_is_not_split_either() -> None:
    value = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    # the 17th read makes the pending line longer than MAX_LINE: the value straddles that read's end
    line = ("q" * (17 * CHUNK - 30) + f" AWS_SECRET_ACCESS_KEY={value} " + "q" * CHUNK).encode()
    reader = asyncio.StreamReader()
    for start in range(0, len(line), CHUNK):
        reader.feed_data(line[start : start + CHUNK])
    reader.feed_eof()
    sink = Pieces()
    await pump(reader, "stdout", sink)  # type: ignore[arg-type]
    assert value[:8] not in "".join(sink.pieces) and value[-8:] not in "".join(sink.pieces)


async def test_a_multibyte_character_split_by_a_read_survives() -> None:
    reader = asyncio.StreamReader()
    data = "ä-€-✓\n".encode()
    for i in range(len(data)):
        reader.feed_data(data[i : i + 1])
    reader.feed_eof()
    sink = Pieces()
    await pump(reader, "stdout", sink)  # type: ignore[arg-type]
    assert sink.pieces == ["ä-€-✓"]
