"""Byte-level encoding shared by the writers: JSON string escapes and reproducible gzip files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path


def escaped(text: str) -> str:
    """The text as it sits inside a JSON string, escapes included."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def write_gzip(path: Path, data: bytes) -> None:
    """No file name and mtime 0 in the header: byte-identical reruns."""
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as compressed:
            compressed.write(data)
