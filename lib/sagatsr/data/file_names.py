"""File-name rules shared by the structure formats: the ``.gz`` ending and macOS metadata.

Databases serve structure files gzip-compressed (``x.cif.gz``, ``CONTCAR.gz``), and
macOS writes an AppleDouble file ``._name`` beside each file on a drive or share that
is not its own (binary, no structure). :func:`without_gz` and :func:`stem_with_suffix`
are the one place these two rules are spelled.
"""

from __future__ import annotations

from collections.abc import Sequence

#: The ending of a gzip-compressed file.
GZ_SUFFIX = ".gz"
#: The name beginning of macOS metadata files.
APPLE_DOUBLE_PREFIX = "._"


def without_gz(name: str) -> str:
    """The file name without a trailing ``.gz`` (any letter case).

    Args:
        name: A file name, e.g. ``"CONTCAR.gz"``.

    Returns:
        ``"CONTCAR"`` for ``"CONTCAR.gz"``; a name without the ending as given.
    """
    return name[: -len(GZ_SUFFIX)] if name.lower().endswith(GZ_SUFFIX) else name


def stem_with_suffix(name: str, suffixes: Sequence[str]) -> str | None:
    """The id a file named ``<id><suffix>`` (or ``<id><suffix>.gz``) gives.

    Args:
        name: A file name (no folder), e.g. ``"mp-5229.vasp.gz"``.
        suffixes: The endings that make a name a file of this format (lower case,
            e.g. ``(".vasp", ".poscar")``), matched in any letter case.

    Returns:
        The name without ``.gz`` and its ending, or ``None`` when it has none of
        ``suffixes``, is nothing but the ending, or is macOS metadata (``._x.cif``).
    """
    if name.startswith(APPLE_DOUBLE_PREFIX):
        return None
    base = without_gz(name)
    for suffix in sorted(suffixes, key=len, reverse=True):
        if base.lower().endswith(suffix) and len(base) > len(suffix):
            return base[: -len(suffix)]
    return None
