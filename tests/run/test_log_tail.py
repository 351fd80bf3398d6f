"""Unit logs are tailed from the end of the file: the lines of a whole read, few bytes read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from refarch_tui.run import log_tail
from refarch_tui.run.log_tail import last_lines


def whole_file_tail(path: Path, count: int) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()[-count:]


class CountingReader:
    """Wraps a binary file and counts the bytes read from it."""

    def __init__(self, handle: Any, counter: list[int]) -> None:
        self._handle = handle
        self._counter = counter

    def __enter__(self) -> CountingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()

    def seek(self, offset: int, whence: int = 0) -> int:
        return int(self._handle.seek(offset, whence))

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._counter[0] += len(data)
        return bytes(data)


def test_a_huge_log_is_read_from_its_end_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "unit.log"
    with log.open("wb") as handle:
        handle.truncate(256 * 1024 * 1024)  # sparse: 256 MiB of old output nobody asked to see
        handle.seek(0, 2)
        handle.write(b"".join(f"line {i}\n".encode() for i in range(5000)))
    counter = [0]
    real_open = open
    monkeypatch.setattr(
        log_tail, "open", lambda *a, **k: CountingReader(real_open(*a, **k), counter), raising=False
    )

    lines = last_lines(log, 2000)

    assert lines == [f"line {i}" for i in range(3000, 5000)]
    assert counter[0] <= 2 * log_tail.BLOCK_SIZE  # ~24 KiB of lines wanted: one or two blocks, never the file


@pytest.mark.parametrize("block_size", [1, 3, 7, 64, 4096])
def test_same_lines_as_reading_the_whole_file(tmp_path: Path, block_size: int) -> None:
    log = tmp_path / "unit.log"
    log.write_bytes(b"".join(f"step {i}: {'x' * (i % 13)}\r\n".encode() for i in range(300)))
    for count in (1, 2, 10, 299, 300):
        assert last_lines(log, count, block_size=block_size) == whole_file_tail(log, count)


def test_no_trailing_newline_keeps_the_last_partial_line(tmp_path: Path) -> None:
    log = tmp_path / "unit.log"
    log.write_bytes(b"first\nsecond\nstill writing")
    assert last_lines(log, 2, block_size=4) == ["second", "still writing"]
    assert last_lines(log, 1, block_size=4) == ["still writing"]


def test_fewer_lines_than_asked_returns_them_all(tmp_path: Path) -> None:
    log = tmp_path / "unit.log"
    log.write_text("only\ntwo\n", encoding="utf-8")
    assert last_lines(log, 2000) == ["only", "two"]
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    assert last_lines(empty, 10) == []


@pytest.mark.parametrize("block_size", [1, 2, 3, 5, 8])
def test_utf8_split_across_a_block_boundary_decodes_whole(tmp_path: Path, block_size: int) -> None:
    log = tmp_path / "unit.log"
    text = "".join(f"état {i} — ✓ 日本 🚀\n" for i in range(40))
    log.write_text(text, encoding="utf-8")
    tail = last_lines(log, 7, block_size=block_size)
    assert tail == text.splitlines()[-7:]
    assert all("\ufffd" not in line for line in tail)


def test_invalid_bytes_are_replaced_as_when_reading_the_whole_file(tmp_path: Path) -> None:
    log = tmp_path / "unit.log"
    log.write_bytes(b"ok\n\xff\xfe broken\nend\n")
    assert last_lines(log, 2, block_size=2) == whole_file_tail(log, 2)


def test_a_missing_log_raises_oserror_like_read_text(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        last_lines(tmp_path / "gone.log", 10)
