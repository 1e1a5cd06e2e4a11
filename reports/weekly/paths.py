"""Identifiers as file names, and paths that stay inside their root: the one way `reports/` turns an id into a path.

An org or user id is data from the loaders: it can be `..`, an absolute path, `a/b` next to `a_b`, 300 characters
long, or differ from another only in case. `safe_name` maps every id to a file name that is

- readable: an id that is already a plain lowercase name (`[a-z0-9][a-z0-9@._-]{0,63}`, not ending in `.`, not
  a Windows device name) stays as it is;
- collision-free: any other id becomes `<slug>~<hash>`, its slug (ASCII, lowercase) followed by 96 bits of the
  SHA-256 of the whole id. Kept names never contain `~`, so a mapped name never equals a kept one, and two mapped
  names differ in their hash (lowercase hex, so also on case-insensitive file systems);
- bounded: at most 65 characters, ASCII only (safe in a MIME header and on any file system).

`join_inside` joins such names to a root and refuses any result that would leave the root (a `..` part, a
separator, a symlink pointing out), before anything is written there.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

_KEPT = re.compile(r"[a-z0-9][a-z0-9@._-]{0,63}")
# Names Windows reserves for devices whatever the extension (`con.html` is the console there).
_DEVICE_NAMES = frozenset(
    ["con", "prn", "aux", "nul"] + [f"{prefix}{digit}" for prefix in ("com", "lpt") for digit in range(1, 10)]
)
_NOT_SLUG = re.compile(r"[^a-z0-9@._-]+")
HASH_SEPARATOR = "~"
SLUG_MAX_CHARS = 40
HASH_HEX_CHARS = 24  # 96 bits


class UnsafePathError(ValueError):
    """A path that would leave its root, or a part that is not one plain file name."""


def safe_name(identifier: str) -> str:
    """The file or folder name of an identifier (see the module docstring)."""
    if _KEPT.fullmatch(identifier) and not identifier.endswith(".") and identifier not in _DEVICE_NAMES:
        return identifier
    ascii_text = unicodedata.normalize("NFKD", identifier).encode("ascii", "ignore").decode("ascii").lower()
    slug = _NOT_SLUG.sub("-", ascii_text).strip(".-")[:SLUG_MAX_CHARS].rstrip(".-") or "id"
    # surrogatepass: an id decoded with errors="surrogateescape" still hashes (to its own value).
    digest = hashlib.sha256(identifier.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_HEX_CHARS]
    return f"{slug}{HASH_SEPARATOR}{digest}"


def join_inside(root: Path, *names: str) -> Path:
    """`root / name / ...`, after checking that each name is one plain path component and that the result,
    symlinks resolved, lies inside `root`; raises UnsafePathError otherwise."""
    for name in names:
        if not name or name in (".", "..") or any(character in name for character in "/\\\0"):
            raise UnsafePathError(f"{name!r} is not a plain file name")
    path = Path(root).joinpath(*names)
    resolved_root = Path(root).resolve()
    if not path.resolve().is_relative_to(resolved_root):
        raise UnsafePathError(f"{path} leads outside {resolved_root}")
    return path
