"""The last lines of a (possibly huge) unit log, read backwards from the end of the file.

A flood can leave a unit log of hundreds of megabytes; opening it must cost the lines shown, not the file.
"""

from __future__ import annotations

from pathlib import Path

BLOCK_SIZE = 64 * 1024


def last_lines(path: Path, count: int, *, block_size: int = BLOCK_SIZE) -> list[str]:
    """The same lines as `path.read_text(errors="replace").splitlines()[-count:]`, without reading it all.

    Raises OSError like `read_text` when the file cannot be read.
    """
    if count <= 0:
        return []
    with open(path, "rb") as handle:
        position = handle.seek(0, 2)
        blocks: list[bytes] = []
        newlines = 0
        # One newline more than asked for (plus a trailing one) proves the oldest kept line is whole.
        while position > 0 and newlines <= count + 1:
            step = min(block_size, position)
            position -= step
            handle.seek(position)
            block = handle.read(step)
            blocks.append(block)
            newlines += block.count(b"\n")
    data = b"".join(reversed(blocks))
    if position > 0:
        # The bytes before the first newline are the end of an older line; dropping them also cuts the
        # data at a character boundary (a UTF-8 continuation byte is never b"\n"), so decoding is exact.
        data = data[data.find(b"\n") + 1 :]
    return data.decode("utf-8", errors="replace").splitlines()[-count:]
