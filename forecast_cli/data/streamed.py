"""A large CSV file handed to read_csv straight from disk, fingerprinted and checked as its bytes pass.

Why: the whole-bytes path (io.read_bytes) holds the file once beside read_csv's own columns, 390 MB more
at 5M rows x 8 columns, and every 4 KiB of it is a new page the kernel must fault in and zero. Here
read_csv pulls 256 KiB blocks through `CheckedReader`, which hashes them (the fingerprint is the sha256
of every byte of the file, as before) and checks what the whole-bytes path checks over the whole file:
UTF-8 (ASCII needs no decoding) and a line end in every MAX_FIELD_CHARS / 2 bytes (longlines.py).

Only the plain case streams (`open_plain`): a regular file over STREAM_BYTES, no UTF-16 byte-order
mark, its trailing junk (NUL padding, ^Z) within the last TAIL_BYTES. When a check fails along the way
the reader marks itself `fallback` and stops, and the caller reads the file the old way, whose checks
and messages then decide. Never imports pandas.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import stat
from dataclasses import dataclass

from forecast_cli.data.longlines import MAX_FIELD_CHARS

STREAM_BYTES = 32 * 1024 * 1024  # below this, holding the bytes costs little and the old path reads
TAIL_BYTES = 64 * 1024  # where trailing junk is looked for; more of it than this takes the old path
BLOCK = 256 * 1024  # at most this much per read (< MAX_FIELD_CHARS / 2, so a block holds at most one long gap)
JUNK = b"\x00\x1a\r\n"  # what io.strip_trailing_junk drops after the last line
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
HEAD_BYTES = 8 * 1024 * 1024  # the head the header checks read (io.HEADER_BYTES)


class Fallback(Exception):
    """The file needs the whole-bytes path (a check along the way could not be settled on a block)."""


@dataclass
class PlainFile:
    """A file that may stream: its open handle, head, and the byte range read_csv should see."""

    handle: io.BufferedReader
    head: bytes  # the first HEAD_BYTES (or the whole file), as on disk
    start: int  # 3 after a UTF-8 byte-order mark, else 0
    end: int  # where trailing junk starts (the size when there is none)
    suffix: bytes  # b"\n" in place of trailing junk (as io.strip_trailing_junk writes), else b""

    def close(self) -> None:
        self.handle.close()


def open_plain(path: str) -> PlainFile | None:
    """The file opened for streaming, or None when the whole-bytes path should read it (stdin, small,
    not a regular file, UTF-16, all junk at the end, or anything that cannot be opened: the old path
    says what is wrong with it)."""
    if path == "-":
        return None
    try:
        handle = open(path, "rb")
    except OSError:
        return None
    try:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size <= STREAM_BYTES:
            handle.close()
            return None
        head = handle.read(HEAD_BYTES)
        if head[:2] in UTF16_BOMS:
            handle.close()
            return None
        end, suffix = _junk_free_end(handle, info.st_size)
    except OSError:
        handle.close()
        return None
    if end is None:
        handle.close()
        return None
    return PlainFile(handle, head, 3 if head[:3] == UTF8_BOM else 0, end, suffix)


def _junk_free_end(handle, size: int) -> tuple[int | None, bytes]:
    """(where the data ends, what replaces the junk after it), as io.strip_trailing_junk decides; None
    when the last TAIL_BYTES are junk only (long NUL padding: the old path looks further back)."""
    handle.seek(max(size - TAIL_BYTES, 0))
    tail = handle.read()
    kept = len(tail.rstrip(JUNK))
    if kept == 0:
        return None, b""
    base = size - len(tail)
    if kept == len(tail.rstrip(b"\r\n")):
        return size, b""  # line ends only: the bytes as they are
    return base + kept, b"\n"


class CheckedReader(io.RawIOBase):
    """The file's bytes from `plain.start` to `plain.end`, then `plain.suffix`; each block hashed and
    checked as it is read. `digest()` (after the last read) hashes what lies outside that range too."""

    def __init__(self, plain: PlainFile) -> None:
        super().__init__()
        self.plain = plain
        self.hash = hashlib.sha256()
        self.position = 0
        self.fallback: str | None = None  # why the old path must read the file, once a check fails
        self._since_line_end = 0  # bytes since the last \n or \r
        self._utf8 = None  # an incremental decoder, from the first block that is not ASCII
        self._suffix = plain.suffix
        plain.handle.seek(0)
        self._take(plain.handle.read(plain.start), check=False)  # a byte-order mark: hashed, not parsed

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self.plain.end - self.position
        if left <= 0:
            block, self._suffix = self._suffix, b""
            if block:
                self._check(block)
            elif self._utf8 is not None:
                self._decode(b"", final=True)
            buffer[: len(block)] = block
            return len(block)
        block = self.plain.handle.read(min(len(buffer), BLOCK, left))
        if not block:  # the file shrank while being read: what was there is what was read
            self.plain.end = self.position
            return self.readinto(buffer)
        self._take(block)
        buffer[: len(block)] = block
        return len(block)

    def digest(self) -> str:
        """sha256 of the whole file as read: the parsed range and the junk after it."""
        self.plain.handle.seek(self.position)
        for block in iter(lambda: self.plain.handle.read(1 << 20), b""):
            self.hash.update(block)
        return self.hash.hexdigest()

    def _take(self, block: bytes, check: bool = True) -> None:
        self.hash.update(block)
        self.position += len(block)
        if check:
            self._check(block)

    def _check(self, block: bytes) -> None:
        if self._utf8 is not None or not block.isascii():  # once not ASCII, every block (a character may span two)
            self._decode(block)
        first = _first_line_end(block)
        if first < 0:
            self._since_line_end += len(block)
        else:
            if self._since_line_end + first > MAX_FIELD_CHARS // 2:
                self._fail("a line over half a MiB")
            self._since_line_end = len(block) - 1 - max(block.rfind(b"\n"), block.rfind(b"\r"))
        if self._since_line_end > MAX_FIELD_CHARS // 2:
            self._fail("a line over half a MiB")

    def _decode(self, block: bytes, final: bool = False) -> None:
        if self._utf8 is None:
            self._utf8 = codecs.getincrementaldecoder("utf-8")()
        try:
            self._utf8.decode(block, final)
        except UnicodeDecodeError:
            self._fail("not UTF-8")

    def _fail(self, why: str) -> None:
        self.fallback = why
        raise Fallback(why)


def _first_line_end(block: bytes) -> int:
    """The position of the first \n or \r in `block`, -1 when it has none."""
    ends = [at for at in (block.find(b"\n"), block.find(b"\r")) if at >= 0]
    return min(ends) if ends else -1
