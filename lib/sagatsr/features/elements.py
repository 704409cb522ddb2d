"""Elemental property tables: built once from pymatgen and mendeleev, shipped as CSV.

Two tables live in ``sagatsr/features/tables/``:

* ``elements.csv``: one row per element ``Z = 1 .. MAX_Z`` and one column per
  :data:`ELEMENT_PROPERTIES` entry, in the units listed there, with missing
  values already imputed (see :func:`impute_missing`).
* ``element_imputations.csv``: every imputed value with the rule that produced
  it, so that no filled-in number is hidden.
* ``shannon.csv``: Shannon (1976) effective ionic radii from pymatgen, one row
  per (element, oxidation state, coordination number).

The tables are regenerated with ``sagatsr features build-tables``; the
featurizer reads only the shipped CSV files, so features do not change when a
dependency updates its data. :data:`~sagatsr.features.FEATURIZER_VERSION` must be
bumped whenever a table changes (a test compares the tables with their recorded
SHA-256).
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

#: Heaviest element covered (plutonium); heavier elements have no feature data.
MAX_Z = 94

TABLE_FILES = ("elements.csv", "element_imputations.csv", "shannon.csv")


@dataclass(frozen=True)
class ElementProperty:
    """One tabulated elemental property.

    Attributes:
        name: Column name, e.g. ``"ionization_energy_1"``.
        label: Human-readable name.
        unit: Unit of the tabulated value (``"1"`` when dimensionless).
        source: Library and attribute the value is read from.
    """

    name: str
    label: str
    unit: str
    source: str


ELEMENT_PROPERTIES: tuple[ElementProperty, ...] = (
    ElementProperty("atomic_number", "atomic number", "1", "pymatgen Element.Z"),
    ElementProperty("atomic_mass", "atomic mass", "amu", "pymatgen Element.atomic_mass"),
    ElementProperty("period", "period (row)", "1", "pymatgen Element.row"),
    ElementProperty("group", "group", "1", "pymatgen Element.group"),
    ElementProperty("block", "block (s=1, p=2, d=3, f=4)", "1", "mendeleev block"),
    ElementProperty(
        "pettifor_number", "Mendeleev-Pettifor number", "1", "mendeleev pettifor_number"
    ),
    ElementProperty(
        "electronegativity_pauling", "Pauling electronegativity", "1", "pymatgen Element.X"
    ),
    ElementProperty(
        "electronegativity_allen", "Allen electronegativity", "eV", "mendeleev en_allen"
    ),
    ElementProperty(
        "electronegativity_ghosh", "Ghosh electronegativity", "1", "mendeleev en_ghosh"
    ),
    ElementProperty(
        "ionization_energy_1",
        "first ionization energy",
        "eV",
        "pymatgen Element.ionization_energies[0]",
    ),
    ElementProperty(
        "ionization_energy_2",
        "second ionization energy",
        "eV",
        "pymatgen Element.ionization_energies[1]",
    ),
    ElementProperty(
        "electron_affinity", "electron affinity", "eV", "pymatgen Element.electron_affinity"
    ),
    ElementProperty(
        "atomic_radius", "atomic radius (empirical)", "angstrom", "pymatgen Element.atomic_radius"
    ),
    ElementProperty(
        "atomic_radius_calculated",
        "atomic radius (calculated, Clementi)",
        "angstrom",
        "pymatgen Element.atomic_radius_calculated",
    ),
    ElementProperty(
        "covalent_radius",
        "covalent radius (Pyykko)",
        "angstrom",
        "mendeleev covalent_radius_pyykko / 100",
    ),
    ElementProperty("vdw_radius", "van der Waals radius", "angstrom", "mendeleev vdw_radius / 100"),
    ElementProperty(
        "atomic_radius_rahm",
        "atomic radius (Rahm, electron density)",
        "angstrom",
        "mendeleev atomic_radius_rahm / 100",
    ),
    ElementProperty(
        "average_ionic_radius",
        "average ionic radius",
        "angstrom",
        "pymatgen Element.average_ionic_radius (0 read as missing)",
    ),
    ElementProperty("melting_point", "melting point", "K", "pymatgen Element.melting_point"),
    ElementProperty("boiling_point", "boiling point", "K", "pymatgen Element.boiling_point"),
    ElementProperty("molar_volume", "molar volume", "cm^3/mol", "pymatgen Element.molar_volume"),
    ElementProperty(
        "polarizability",
        "static dipole polarizability",
        "bohr^3",
        "mendeleev dipole_polarizability",
    ),
    ElementProperty("fusion_heat", "heat of fusion", "kJ/mol", "mendeleev fusion_heat"),
    ElementProperty(
        "evaporation_heat", "heat of evaporation", "kJ/mol", "mendeleev evaporation_heat"
    ),
    ElementProperty(
        "specific_heat",
        "specific heat capacity",
        "J/(g K)",
        "mendeleev specific_heat_capacity",
    ),
    ElementProperty(
        "valence_s",
        "valence s electrons",
        "1",
        "pymatgen Element.electronic_structure (outside the noble-gas core)",
    ),
    ElementProperty(
        "valence_p",
        "valence p electrons",
        "1",
        "pymatgen Element.electronic_structure (outside the noble-gas core)",
    ),
    ElementProperty(
        "valence_d",
        "valence d electrons",
        "1",
        "pymatgen Element.electronic_structure (outside the noble-gas core)",
    ),
    ElementProperty(
        "valence_f",
        "valence f electrons",
        "1",
        "pymatgen Element.electronic_structure (outside the noble-gas core)",
    ),
    ElementProperty(
        "valence_electrons",
        "valence electrons",
        "1",
        "sum of valence s, p, d, f electrons",
    ),
    ElementProperty(
        "unfilled_valence",
        "unfilled valence states",
        "1",
        "empty states of the partly filled valence s, p, d, f subshells",
    ),
)

PROPERTY_NAMES: tuple[str, ...] = tuple(p.name for p in ELEMENT_PROPERTIES)

_BLOCKS = {"s": 1, "p": 2, "d": 3, "f": 4}
_SUBSHELL_CAPACITY = {"s": 2, "p": 6, "d": 10, "f": 14}
_ROMAN = {"I": 1, "V": 5, "X": 10}


def tables_dir() -> Path:
    """Folder of the shipped CSV tables."""
    return Path(str(resources.files("sagatsr.features") / "tables"))


def tables_sha256(folder: Path | None = None) -> str:
    """SHA-256 over the shipped tables (in :data:`TABLE_FILES` order).

    Args:
        folder: Where the tables are; the shipped folder when ``None``.

    Returns:
        Hex digest.
    """
    digest = hashlib.sha256()
    for name in TABLE_FILES:
        digest.update(name.encode())
        digest.update((folder or tables_dir()).joinpath(name).read_bytes())
    return digest.hexdigest()


def roman_to_int(text: str) -> int:
    """Coordination number of a Shannon key such as ``"VI"``, ``"IVSQ"`` or ``"IIIPY"``.

    Args:
        text: Roman numeral, optionally followed by a geometry suffix.

    Returns:
        The integer.

    Raises:
        ValueError: If ``text`` does not start with a Roman numeral.
    """
    match = re.match(r"[IVX]+", text)
    if not match:
        raise ValueError(f"not a Roman coordination number: {text!r}")
    values = [_ROMAN[c] for c in match.group(0)]
    total = 0
    for i, value in enumerate(values):
        total += -value if i + 1 < len(values) and value < values[i + 1] else value
    return total


def valence_counts(electronic_structure: str) -> dict[str, int]:
    """Valence electrons per subshell type from a configuration string.

    Electrons outside the noble-gas core, e.g. ``"[Xe].4f14.5d10.6s2.6p2"`` gives
    ``{"s": 2, "p": 2, "d": 10, "f": 14}``.

    Args:
        electronic_structure: pymatgen's ``Element.electronic_structure``.

    Returns:
        Counts for ``"s"``, ``"p"``, ``"d"``, ``"f"``.
    """
    counts = dict.fromkeys("spdf", 0)
    for part in electronic_structure.split("."):
        match = re.fullmatch(r"\d+([spdf])(\d+)", part.strip())
        if match:
            counts[match.group(1)] += int(match.group(2))
    return counts


def unfilled_states(counts: dict[str, int]) -> int:
    """Empty states of the occupied, partly filled valence subshells."""
    return sum(_SUBSHELL_CAPACITY[k] - n for k, n in counts.items() if n > 0)


def _number(value: object) -> float:
    """A float from a pymatgen value with units, ``None`` or ``nan`` (missing)."""
    if value is None:
        return math.nan
    try:
        out = float(value)  # pymatgen FloatWithUnit is a float
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) else math.nan


def build_raw_element_table() -> pd.DataFrame:
    """Read every property from pymatgen and mendeleev, without imputation.

    Returns:
        DataFrame indexed by atomic number ``1 .. MAX_Z`` with a ``symbol``
        column and one float column per :data:`ELEMENT_PROPERTIES` entry
        (``nan`` where a library has no value).
    """
    from mendeleev.fetch import fetch_table
    from pymatgen.core import Element

    mendeleev = fetch_table("elements").set_index("atomic_number")
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen warns for every missing property
        for z in range(1, MAX_Z + 1):
            element = Element.from_Z(z)
            m = mendeleev.loc[z]
            energies = [*element.ionization_energies, None, None]
            counts = valence_counts(element.electronic_structure)
            ionic = _number(element.average_ionic_radius)
            row = {
                "symbol": element.symbol,
                "atomic_number": float(z),
                "atomic_mass": _number(element.atomic_mass),
                "period": float(element.row),
                "group": float(element.group),
                "block": float(_BLOCKS[str(m["block"])]),
                "pettifor_number": _number(m["pettifor_number"]),
                "electronegativity_pauling": _number(element.X),
                "electronegativity_allen": _number(m["en_allen"]),
                "electronegativity_ghosh": _number(m["en_ghosh"]),
                "ionization_energy_1": _number(energies[0]),
                "ionization_energy_2": _number(energies[1]),
                "electron_affinity": _number(element.electron_affinity),
                "atomic_radius": _number(element.atomic_radius),
                "atomic_radius_calculated": _number(element.atomic_radius_calculated),
                "covalent_radius": _number(m["covalent_radius_pyykko"]) / 100.0,
                "vdw_radius": _number(m["vdw_radius"]) / 100.0,
                "atomic_radius_rahm": _number(m["atomic_radius_rahm"]) / 100.0,
                "average_ionic_radius": ionic if ionic > 0 else math.nan,
                "melting_point": _number(element.melting_point),
                "boiling_point": _number(element.boiling_point),
                "molar_volume": _number(element.molar_volume),
                "polarizability": _number(m["dipole_polarizability"]),
                "fusion_heat": _number(m["fusion_heat"]),
                "evaporation_heat": _number(m["evaporation_heat"]),
                "specific_heat": _number(m["specific_heat_capacity"]),
                "valence_s": float(counts["s"]),
                "valence_p": float(counts["p"]),
                "valence_d": float(counts["d"]),
                "valence_f": float(counts["f"]),
                "valence_electrons": float(sum(counts.values())),
                "unfilled_valence": float(unfilled_states(counts)),
            }
            rows.append(row)
    table = pd.DataFrame(rows).set_index(pd.Index(range(1, MAX_Z + 1), name="Z"))
    return table[["symbol", *PROPERTY_NAMES]]


def impute_missing(raw: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill missing elemental values by an explicit, recorded rule.

    Rule, tried in order for a missing ``property`` of element ``e``:

    1. ``same block and period``: the median of ``property`` over the elements
       of ``e``'s block and period that have a value;
    2. ``same block``: the median over ``e``'s block;
    3. ``all elements``: the median over every element.

    Args:
        raw: Output of :func:`build_raw_element_table`.

    Returns:
        ``(table, imputations)``: the filled table and one row per filled value
        with columns ``Z``, ``symbol``, ``property``, ``value``, ``rule``.
    """
    table = raw.copy()
    records = []
    for name in PROPERTY_NAMES:
        column = raw[name]
        for z in column.index[column.isna()]:
            block, period = raw.at[z, "block"], raw.at[z, "period"]
            candidates = (
                ("same block and period", (raw["block"] == block) & (raw["period"] == period)),
                ("same block", raw["block"] == block),
                ("all elements", pd.Series(True, index=raw.index)),
            )
            for rule, mask in candidates:
                values = column[mask].dropna()
                if len(values):
                    value = float(values.median())
                    table.at[z, name] = value
                    records.append(
                        {
                            "Z": int(z),
                            "symbol": raw.at[z, "symbol"],
                            "property": name,
                            "value": value,
                            "rule": rule,
                        }
                    )
                    break
    imputations = pd.DataFrame(records, columns=["Z", "symbol", "property", "value", "rule"])
    return table, imputations


def build_shannon_table() -> pd.DataFrame:
    """Shannon effective ionic radii from pymatgen's element data.

    Where a (state, coordination) has several spin states, the high-spin radius
    is used (the ``""`` entry when there is no spin distinction).

    Returns:
        DataFrame with columns ``Z``, ``symbol``, ``oxidation_state``,
        ``coordination``, ``ionic_radius`` (angstrom), sorted.
    """
    from pymatgen.core import Element

    rows = []
    for z in range(1, MAX_Z + 1):
        element = Element.from_Z(z)
        for state, by_cn in element.data.get("Shannon radii", {}).items():
            if not re.fullmatch(r"[+-]?\d+", state):
                continue  # pymatgen has one entry without a state (Eu, "")
            for cn_key, by_spin in by_cn.items():
                spin = next(
                    (k for k in ("", "High Spin") if k in by_spin), next(iter(by_spin), None)
                )
                if spin is None:
                    continue
                rows.append(
                    {
                        "Z": z,
                        "symbol": element.symbol,
                        "oxidation_state": int(state),
                        "coordination": roman_to_int(cn_key),
                        "ionic_radius": float(by_spin[spin]["ionic_radius"]),
                    }
                )
    frame = pd.DataFrame(rows)
    # Several geometries (e.g. IV and IVSQ) can share a coordination number: average them.
    frame = (
        frame.groupby(["Z", "symbol", "oxidation_state", "coordination"], as_index=False)[
            "ionic_radius"
        ]
        .mean()
        .sort_values(["Z", "oxidation_state", "coordination"])
    )
    return frame.reset_index(drop=True)


def write_tables(folder: Path | None = None) -> dict[str, Path]:
    """Rebuild every table from the libraries and write the CSV files.

    Args:
        folder: Destination; the package's ``tables`` folder when ``None``.

    Returns:
        The written paths by file name.
    """
    from sagatsr.io_utils import atomic_open

    out = folder or tables_dir()
    table, imputations = impute_missing(build_raw_element_table())
    frames = {
        "elements.csv": table.reset_index(),
        "element_imputations.csv": imputations,
        "shannon.csv": build_shannon_table(),
    }
    written = {}
    for name, frame in frames.items():
        with atomic_open(out / name, "w", newline="") as handle:
            frame.to_csv(handle, index=False, float_format="%.10g")
        written[name] = out / name
    return written


@dataclass(frozen=True)
class ElementTable:
    """The shipped elemental tables as arrays for vectorized look-ups.

    Attributes:
        values: ``(MAX_Z + 1, P)`` float64, row ``Z`` holds the properties of
            element ``Z`` (row 0 is ``nan``), columns in
            :data:`PROPERTY_NAMES` order.
        symbols: Element symbol per row (``""`` for row 0).
        shannon: ``(Z, oxidation_state, coordination) -> radius`` in angstrom.
        imputations: The rows of ``element_imputations.csv``.
    """

    values: np.ndarray
    symbols: tuple[str, ...]
    shannon: dict[tuple[int, int, int], float]
    imputations: pd.DataFrame

    def column(self, name: str) -> np.ndarray:
        """``(MAX_Z + 1,)`` values of one property."""
        return self.values[:, PROPERTY_NAMES.index(name)]

    def supports(self, symbol: str) -> bool:
        """Whether ``symbol`` is an element with feature data."""
        return symbol in self.symbols[1:]


@functools.cache
def element_table() -> ElementTable:
    """Load the shipped tables (once per process).

    Returns:
        The :class:`ElementTable`.

    Raises:
        FileNotFoundError: If the package was installed without its tables.
    """
    folder = tables_dir()
    frame = pd.read_csv(folder / "elements.csv")
    if list(frame.columns) != ["Z", "symbol", *PROPERTY_NAMES]:
        raise ValueError(f"{folder / 'elements.csv'} does not have the expected columns")
    values = np.full((MAX_Z + 1, len(PROPERTY_NAMES)), np.nan)
    values[frame["Z"].to_numpy()] = frame[list(PROPERTY_NAMES)].to_numpy(dtype=np.float64)
    symbols = ["", *frame.sort_values("Z")["symbol"].tolist()]
    shannon_frame = pd.read_csv(folder / "shannon.csv")
    shannon = {
        (int(z), int(q), int(cn)): float(r)
        for z, q, cn, r in shannon_frame[
            ["Z", "oxidation_state", "coordination", "ionic_radius"]
        ].itertuples(index=False)
    }
    imputations = pd.read_csv(folder / "element_imputations.csv")
    return ElementTable(values, tuple(symbols), shannon, imputations)
