"""CIF text to a pymatgen ``Structure``: pymatgen's result, read fast where that is safe.

Most CIF files in materials datasets are written by pymatgen's ``CifWriter`` or
tools like it: one data block, the identity as the only symmetry operation,
fully occupied sites with plain element symbols. For such a file gemmi's C++
reader tokenizes the text about 30 times faster than pymatgen's ``CifParser``
(0.2 ms against 6-9 ms for a 5-atom perovskite), and :func:`read_cif` builds
the structure ``Structure.from_str(text, fmt="cif")`` would build: the same
lattice, the same sites in the same order (pymatgen sorts them by species),
coordinates wrapped into [0, 1) and near-thirds snapped to 1/3 and 2/3 as
pymatgen does, the same labels.

Every other file goes to pymatgen's parser unchanged, so its semantics hold
everywhere: symmetry operations to apply, partial or missing-species
occupancies, oxidation states, implicit hydrogens, magnetic CIFs, coinciding
sites that pymatgen would merge, CIF2 tag spellings, several data blocks,
anything gemmi cannot read. ``tests/data/test_cif.py`` checks that both paths
give identical structures on the mirror's files.
"""

from __future__ import annotations

import functools
import gzip
import math
import re
import warnings
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np

from sagatsr.data.file_names import stem_with_suffix

if TYPE_CHECKING:
    from pymatgen.core import Structure

#: Symmetry-operation tags in the order pymatgen looks for them (the first present wins).
_SYMOP_TAGS = (
    "_symmetry_equiv_pos_as_xyz",
    "_symmetry_equiv_pos_as_xyz_",
    "_space_group_symop_operation_xyz",
    "_space_group_symop_operation_xyz_",
)
#: Tag prefixes that make pymatgen do more than read the sites as they stand.
_SPECIAL_TAG_PREFIXES = (
    "_atom_type_oxidation_number",
    "_space_group_magn",
    "_magnetic_space_group",
    "_atom_site_moment",
    "_parent_space_group",
    "_atom_site_fourier",
    "_cell_wave_vector",
)
_SITE_COLUMNS = ("label", "type_symbol", "fract_x", "fract_y", "fract_z", "?occupancy")
_NUMBER = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?:\(\d+\))?$")
_ELEMENT = re.compile(r"^[A-Z][a-z]?$")
#: pymatgen's CifParser defaults: sites closer than this (fractional, per axis) merge;
#: coordinates within this relative distance of 1/3 or 2/3 are snapped.
_SITE_TOLERANCE = 1e-4
_FRAC_TOLERANCE = 1e-4
#: pymatgen rejects cells thinner than this along an axis (Angstrom).
_MIN_THICKNESS = 0.01
#: Beyond this many sites the pairwise coincidence check is left to pymatgen.
_MAX_FAST_SITES = 2000


#: File name endings of CIF files (``.gz`` too: as databases serve them).
CIF_SUFFIXES = (".cif",)


def cif_stem(name: str) -> str | None:
    """The id a CIF file's name gives: the name without ``.cif`` or ``.cif.gz``.

    Args:
        name: A file name (no folder), e.g. ``"mb-perovskites-00001.cif.gz"``.

    Returns:
        The name without its CIF ending (any letter case), or ``None`` when the
        name does not end in one of :data:`CIF_SUFFIXES` (``.gz`` after it or not)
        or is macOS metadata (``._name.cif``,
        :func:`~sagatsr.data.file_names.stem_with_suffix`).
    """
    return stem_with_suffix(name, CIF_SUFFIXES)


class DamagedFileError(ValueError):
    """A compressed CIF file that cannot be decompressed (truncated or not gzip data)."""


def decode_cif(data: bytes) -> str:
    """The text of a CIF file's bytes, decompressed first if they are gzip data.

    UTF-8 (a byte-order mark dropped) unless the bytes start with a UTF-16 byte-order
    mark (Windows editors save "Unicode" text so); bytes that are not valid UTF-8
    (a Latin-1 comment) become U+FFFD, which no CIF value the parser reads contains.
    Gzip data is recognised by its first two bytes, whatever the file is called.

    Raises:
        DamagedFileError: If gzip data cannot be decompressed (a truncated download).
    """
    if data.startswith(b"\x1f\x8b"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as error:
            raise DamagedFileError(f"damaged gzip file ({error})") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    return data.decode("utf-8-sig", errors="replace")


def structure_to_cif(structure: Structure) -> str:
    """CIF text of a structure (pymatgen's ``CifWriter``), for formats read through CIF.

    Args:
        structure: Any pymatgen structure.

    Returns:
        The text, which :func:`read_cif` reads back as the same structure.
    """
    from pymatgen.io.cif import CifWriter

    return str(CifWriter(structure))


class SeveralStructuresError(ValueError):
    """The CIF text holds more than one structure (one per data block), where one is read."""


def read_cif(text: str) -> Structure:
    """Parse CIF text into a structure, as ``Structure.from_str(text, fmt="cif")`` does.

    Unlike pymatgen, which reads the first structure of a file and says nothing of
    the others, a text with several data blocks that hold atom sites (ase writes
    a list of structures so) is refused: one file or record is one structure here,
    with one label or one prediction.

    Args:
        text: The CIF file's text.

    Returns:
        The structure of the one data block that holds one.

    Raises:
        SeveralStructuresError: If several data blocks hold atom sites.
        Exception: Whatever pymatgen's parser raises for text it cannot read
            (callers report it per file).
    """
    structure = _read_simple_cif(text)
    if structure is not None:
        return structure
    blocks = _blocks_with_sites(text)
    if len(blocks) > 1:
        shown = ", ".join(f"data_{name}" for name in blocks[:3])
        shown += ", ..." if len(blocks) > 3 else ""
        raise SeveralStructuresError(
            f"the CIF holds {len(blocks)} structures (data blocks {shown}); one structure per "
            "file is read: split it into one file per structure"
        )
    from pymatgen.core import Structure

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen's CIF warnings are informational here
        return Structure.from_str(text, fmt="cif")


def _blocks_with_sites(text: str) -> list[str]:
    """Names of the data blocks that hold atom-site coordinates (``[]`` if gemmi cannot read it)."""
    import gemmi

    try:
        document = gemmi.cif.read_string(text)
    except (RuntimeError, ValueError):
        return []
    return [
        block.name
        for block in document
        if any(tag.startswith(("_atom_site_fract_", "_atom_site_cartn_")) for tag in _tags(block))
    ]


def _number(text: str) -> float | None:
    """The ``str2float`` value of a plain number with an optional ``(uncertainty)``."""
    if not _NUMBER.match(text):
        return None
    return float(text.split("(", 1)[0])


@functools.cache
def _electronegativity(symbol: str) -> float:
    """Pauling electronegativity as pymatgen sorts by it (nan where it has none)."""
    from pymatgen.core import Element

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "No Pauling electronegativity for He"
        return float(Element(symbol).X)


def _tags(block: Any) -> list[str]:
    names: list[str] = []
    for item in block:
        if item.pair is not None:
            names.append(item.pair[0])
        elif item.loop is not None:
            names.extend(item.loop.tags)
    return [name.lower() for name in names]


def _identity_only(block: Any) -> bool:
    """Whether the first symmetry-operation list pymatgen would read is just ``x, y, z``."""
    import gemmi

    for tag in _SYMOP_TAGS:
        values = block.find_values(tag)
        if len(values):
            operations = [gemmi.cif.as_string(v).replace(" ", "").lower() for v in values]
            return operations == ["x,y,z"]
    return False


def _snap_and_wrap(fractional: np.ndarray) -> np.ndarray:
    """Snap near-thirds to 1/3 and 2/3 as pymatgen does, then ``x - floor(x)`` per coordinate."""
    out = fractional.copy()
    for ideal in (1 / 3, 2 / 3):
        out[np.abs(fractional / ideal - 1.0) <= _FRAC_TOLERANCE] = float(str(ideal))
    return out - np.floor(out)


def _has_coinciding_sites(fractional: np.ndarray) -> bool:
    """Whether two sites lie within twice pymatgen's merge tolerance (periodic)."""
    difference = fractional[:, None, :] - fractional[None, :, :]
    difference -= np.round(difference)
    close = np.all(np.abs(difference) <= 2 * _SITE_TOLERANCE, axis=-1)
    np.fill_diagonal(close, False)
    return bool(close.any())


def _read_simple_cif(text: str) -> Structure | None:
    """The structure of a one-block, identity-symmetry, fully occupied CIF; ``None`` otherwise."""
    import gemmi
    from pymatgen.core import Element, Lattice, Structure

    try:
        document = gemmi.cif.read_string(text)
    except (RuntimeError, ValueError):
        return None
    if len(document) != 1:
        return None
    block = document[0]
    if any(tag.startswith(_SPECIAL_TAG_PREFIXES) for tag in _tags(block)):
        return None
    if not _identity_only(block):
        return None

    cell = [block.find_value(f"_cell_length_{axis}") for axis in "abc"]
    cell += [block.find_value(f"_cell_angle_{angle}") for angle in ("alpha", "beta", "gamma")]
    parameters = [_number(value) if value is not None else None for value in cell]
    if any(value is None for value in parameters):
        return None

    table = block.find("_atom_site_", list(_SITE_COLUMNS))
    if not table or len(table) == 0 or len(table) > _MAX_FAST_SITES:
        return None
    labels, symbols, coordinates = [], [], []
    for row in table:
        symbol = gemmi.cif.as_string(row[1])
        if (
            not _ELEMENT.match(symbol)
            or symbol in ("D", "T")
            or not Element.is_valid_symbol(symbol)
        ):
            return None
        if row.has(5) and _number(row[5]) != 1.0:
            return None
        xyz = [_number(row[i]) for i in (2, 3, 4)]
        if any(value is None for value in xyz):
            return None
        labels.append(gemmi.cif.as_string(row[0]))
        symbols.append(symbol)
        coordinates.append(xyz)

    lattice = Lattice.from_parameters(*parameters)
    # d_100, d_010, d_001: one over the lengths of the reciprocal (crystallographic) vectors.
    thickness = 1.0 / np.linalg.norm(np.linalg.inv(lattice.matrix), axis=0)
    if not np.all(thickness >= _MIN_THICKNESS):
        return None
    raw = np.asarray(coordinates, dtype=np.float64)
    if _has_coinciding_sites(raw):
        return None
    fractional = _snap_and_wrap(raw)
    if not np.all(np.isfinite(fractional)):
        return None

    # pymatgen sorts the sites by Pauling electronegativity, then symbol (stable).
    electronegativity = {s: _electronegativity(s) for s in set(symbols)}
    if not all(math.isfinite(x) for x in electronegativity.values()):
        return None  # pymatgen's comparisons with nan are not a consistent order
    order = sorted(range(len(symbols)), key=lambda i: (electronegativity[symbols[i]], symbols[i]))
    return Structure(
        lattice,
        [symbols[i] for i in order],
        fractional[order],
        labels=[labels[i] for i in order],
    )
