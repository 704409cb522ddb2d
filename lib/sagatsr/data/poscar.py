"""POSCAR and CONTCAR text (VASP) to a pymatgen ``Structure``, without guessed elements.

A VASP calculation's structure files have no fixed ending: ``POSCAR``, ``CONTCAR``,
``POSCAR_relaxed``, ``SrTiO3.vasp``. :func:`is_poscar_name` recognises these names
(gzip-compressed too), :func:`poscar_stem` the id of a file named after its structure
(``<id>.vasp``, as in a dataset folder), :func:`read_poscar` parses the text with
pymatgen's ``Poscar``. pymatgen names the species of a VASP 4 file (no line of element
symbols) H, He, Li, ... in order, with a warning: a structure of the wrong
elements. That file is refused here instead.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from sagatsr.data.file_names import stem_with_suffix, without_gz

if TYPE_CHECKING:
    from pymatgen.core import Structure

#: Name beginnings (any letter case) of VASP structure files: POSCAR, POSCAR_1, CONTCAR.relax.
POSCAR_PREFIXES = ("POSCAR", "CONTCAR")
#: File name endings of VASP structure files named after their content.
POSCAR_SUFFIXES = (".vasp", ".poscar")
#: pymatgen's warning when it makes up the species of a file that names none.
_GUESSED_SPECIES = "cannot be determined"


class PoscarError(ValueError):
    """POSCAR text that cannot be read as the structure it describes."""


def poscar_stem(name: str) -> str | None:
    """The id a VASP file named after its content gives: the name without its ending.

    Args:
        name: A file name (no folder), e.g. ``"mp-5229.vasp"``, ``"SrTiO3.poscar.gz"``.

    Returns:
        The name without ``.vasp`` or ``.poscar`` (and ``.gz``; any letter case), or
        ``None`` for any other name, for macOS metadata (``._name.vasp``), and for
        ``POSCAR``-style names, which do not name a structure.
    """
    return stem_with_suffix(name, POSCAR_SUFFIXES)


def is_poscar_name(name: str) -> bool:
    """Whether a file name (no folder) is a VASP structure file's, compressed or not.

    Args:
        name: e.g. ``"POSCAR"``, ``"CONTCAR_relaxed"``, ``"SrTiO3.vasp"``,
            ``"POSCAR.gz"``; a CIF name (``"POSCAR_final.cif"``) is not one.
    """
    base = without_gz(name)
    if base.lower().endswith(".cif"):  # POSCAR_final.cif is a CIF, as prepare reads it
        return False
    return base.upper().startswith(POSCAR_PREFIXES) or base.lower().endswith(POSCAR_SUFFIXES)


def read_poscar(text: str) -> Structure:
    """Parse POSCAR (or CONTCAR) text.

    Args:
        text: The file's text (VASP 5 format: a line of element symbols above the
            counts; selective dynamics and velocities are allowed).

    Returns:
        The structure (Cartesian or direct coordinates as the file gives them).

    Raises:
        PoscarError: If the text is empty, truncated or unparsable, or names no
            elements (VASP 4 format), which pymatgen would replace by H, He, ...
    """
    if not text.strip():
        raise PoscarError("empty file")
    from pymatgen.io.vasp import Poscar

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            structure = Poscar.from_str(text).structure
        except Exception as error:  # pymatgen raises IndexError, ValueError, ... per defect
            raise PoscarError(
                f"truncated or unparsable POSCAR ({type(error).__name__}: {error})"
            ) from None
    if any(_GUESSED_SPECIES in str(warning.message) for warning in caught):
        raise PoscarError(
            "the POSCAR names no elements (VASP 4 format): add the line of element "
            "symbols above the line of counts"
        )
    return structure
