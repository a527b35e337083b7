"""Reading import files: the encoding (UTF-8 with or without BOM, or Windows-1251), the checksum, the lines.

Files are never held whole: a first pass in chunks computes the sha256 and tells UTF-8 from
Windows-1251 (a text that decodes as strict UTF-8 is UTF-8; Russian text in Windows-1251 never does),
then :func:`rows` streams the lines through :mod:`csv`.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20
ENCODINGS = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig", "cp1251": "cp1251", "windows-1251": "cp1251"}


class FileProblem(ValueError):
    """The file as a whole cannot be read (Russian reason)."""


@dataclass(frozen=True)
class FileInfo:
    path: Path
    sha256: str
    encoding: str  # a Python codec: ``utf-8-sig`` or ``cp1251``
    size: int
    #: No quotes, no lone carriage return, no empty line, no ``\\.``: each physical line after the header
    #: is one line of values, split by ``;`` alone — what the database's own CSV reader may load as it is.
    plain: bool = False


def inspect(path: Path, declared: str | None = None) -> FileInfo:
    """The file's checksum and encoding (``declared`` wins: ``utf-8`` or ``cp1251``)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    utf8 = True
    size = 0
    plain = True
    tail = b"\n"  # the end of the previous chunk: a file starting with an empty line is not plain
    with path.open("rb") as stream:
        first = True
        while chunk := stream.read(CHUNK):
            if plain:
                joined = tail + chunk
                plain = not any(
                    mark in joined for mark in (b'"', b"\n\n", b"\n\r\n", b"\\.")
                ) and joined.count(b"\r") == joined.count(b"\r\n")
                tail = joined[-2:]
            if first and chunk[:2] in (b"\xff\xfe", b"\xfe\xff"):
                raise FileProblem("файл в кодировке UTF-16: сохраните его в UTF-8 или Windows-1251")
            first = False
            if b"\x00" in chunk:
                raise FileProblem("это не текстовый файл (в нём есть нулевые байты)")
            digest.update(chunk)
            size += len(chunk)
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8 = False
    if declared is not None:
        encoding = ENCODINGS.get(declared.lower())
        if encoding is None:
            raise FileProblem(f"неизвестная кодировка {declared!r}: допустимы utf-8 и cp1251")
        if encoding == "utf-8-sig" and not utf8:
            raise FileProblem("файл объявлен как UTF-8, но не является текстом в UTF-8")
    else:
        encoding = "utf-8-sig" if utf8 else "cp1251"
    return FileInfo(path, digest.hexdigest(), encoding, size, plain)


def rows(info: FileInfo) -> Iterator[tuple[int, list[str]]]:
    """(line number, values) of every non-empty line, the header first (line 1)."""
    try:
        with info.path.open(encoding=info.encoding, newline="") as stream:
            reader = csv.reader(stream, delimiter=";", quotechar='"', strict=True)
            line = 0
            for values in reader:
                line = reader.line_num
                if not values or (len(values) == 1 and not values[0].strip()):
                    continue
                yield line, values
    except UnicodeDecodeError as exc:
        raise FileProblem(f"байт, которого нет в кодировке {info.encoding}, в позиции {exc.start}") from exc
    except csv.Error as exc:
        raise FileProblem(f"нарушены правила CSV: {exc}") from exc


def header_names(values: list[str]) -> list[str]:
    return [value.strip().lower().lstrip("\ufeff") for value in values]
