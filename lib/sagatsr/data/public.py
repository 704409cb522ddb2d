"""Loaders for the public originals (used when no dataset mirror is configured).

* Castelli / Matbench perovskites: matminer's ``load_dataset`` (figshare).
* JARVIS-DFT 3D: jarvis-tools ``jarvis.db.figshare.data("dft_3d")``.
* MP-20 (validation + test): the CSV files distributed with CDVAE on GitHub.
* OQMD A3BC 5-site cells: OQMD's OPTIMADE API.

Each loader converts the records into :class:`~sagatsr.data.records.RawEntry`
objects with the same ids, targets and metadata as the mirror, so that
validation and everything downstream cannot tell the two apart. The
conversion functions (``*_entries``) are pure and tested on small records
shaped like each service's output; the fetch functions need the network.
"""

from __future__ import annotations

import json
import math
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from sagatsr.data.records import RawEntry, reduced_formula

#: The Matbench v0.1 fold generator: ``KFold(5, shuffle=True, random_state=...)``.
MATBENCH_SEED = 18012019
MATBENCH_FOLDS = 5

#: The paper's nine JARVIS-DFT targets (``"na"`` marks a missing value).
JARVIS_TARGETS: tuple[str, ...] = (
    "formation_energy_peratom",
    "optb88vdw_bandgap",
    "optb88vdw_total_energy",
    "ehull",
    "bulk_modulus_kv",
    "shear_modulus_gv",
    "epsx",
    "epsy",
    "epsz",
)

CDVAE_MP20_URL = "https://raw.githubusercontent.com/txie-93/cdvae/main/data/mp_20/{split}.csv"
OQMD_OPTIMADE_URL = "https://oqmd.org/optimade/v1/structures"
OQMD_FILTER = 'chemical_formula_anonymous="A3BC" AND nsites=5'

#: Fields of OQMD's OPTIMADE records that become targets.
OQMD_TARGET_FIELDS = {"formation_energy_per_atom": "_oqmd_delta_e", "band_gap": "_oqmd_band_gap"}


def matbench_folds(n_entries: int) -> np.ndarray:
    """The official Matbench v0.1 test fold of every row of a regression task.

    Args:
        n_entries: Number of rows, in the dataset's order.

    Returns:
        ``(n_entries,)`` int array, the fold (0-4) in whose test set each row is.
    """
    from sklearn.model_selection import KFold

    folds = np.full(n_entries, -1, dtype=np.int64)
    splitter = KFold(n_splits=MATBENCH_FOLDS, shuffle=True, random_state=MATBENCH_SEED)
    for fold, (_, test) in enumerate(splitter.split(np.arange(n_entries))):
        folds[test] = fold
    return folds


def anion_set(x_symbols: Iterable[str]) -> str:
    """Castelli-style anion family of the X sites of one ABX3 unit, e.g. ``"N2O"``.

    Args:
        x_symbols: Element symbol of every X site of the cell.

    Returns:
        The X-site composition per formula unit, elements in alphabetical
        order, counts of 1 omitted (``"O3"``, ``"FNO"``, ``"O2S"``).
    """
    from collections import Counter

    counts = Counter(x_symbols)
    units = sum(counts.values()) / 3.0
    parts = []
    for symbol in sorted(counts):
        per_unit = counts[symbol] / units
        parts.append(symbol + ("" if math.isclose(per_unit, 1.0) else f"{per_unit:g}"))
    return "".join(parts)


def castelli_entries(frame: Any, extra: Any | None = None) -> list[RawEntry]:
    """Entries of matminer's ``matbench_perovskites`` (plus ``castelli_perovskites`` columns).

    Args:
        frame: DataFrame with ``structure`` and ``e_form`` columns, Matbench order.
        extra: Optional ``castelli_perovskites`` DataFrame, same rows and order
            (matminer's columns ``gap gllbsc``, ``vbm``, ``cbm``, ...).

    Returns:
        One entry per row with id ``mb-perovskites-%05d``, the official fold in
        ``matbench_test_fold`` and ``anion_set`` from the X sites.

    Raises:
        ValueError: If ``extra`` does not have the same number of rows.
    """
    from sagatsr.data.roles import ROLE_X, assign_roles

    if extra is not None and len(extra) != len(frame):
        raise ValueError(
            f"castelli_perovskites has {len(extra)} rows, matbench_perovskites {len(frame)}"
        )
    folds = matbench_folds(len(frame))
    entries = []
    for i, structure in enumerate(frame["structure"]):
        roles = assign_roles(structure)
        x_symbols = [structure[int(j)].specie.symbol for j in np.flatnonzero(roles.roles == ROLE_X)]
        labels: dict[str, Any] = {"e_form": frame["e_form"].iloc[i]}
        metadata: dict[str, Any] = {
            "formula": reduced_formula(structure),
            "anion_set": anion_set(x_symbols),
            "matbench_test_fold": int(folds[i]),
        }
        if extra is not None:
            row = extra.iloc[i]
            labels["gap_gllbsc"] = row.get("gap gllbsc")
            for column in ("gap is direct", "vbm", "cbm", "fermi level", "fermi width", "mu_b"):
                metadata[column.replace(" ", "_")] = row.get(column)
        entries.append(
            RawEntry(
                id=f"mb-perovskites-{i + 1:05d}",
                origin=f"matminer matbench_perovskites row {i}",
                structure=structure,
                labels=labels,
                metadata=metadata,
            )
        )
    return entries


def fetch_castelli() -> list[RawEntry]:
    """Download Castelli / Matbench perovskites through matminer (needs the network)."""
    from matminer.datasets import load_dataset

    frame = load_dataset("matbench_perovskites")
    extra = load_dataset("castelli_perovskites")
    return castelli_entries(frame, extra)


def jarvis_atoms_to_structure(atoms: Mapping[str, Any]) -> Any:
    """Build a pymatgen ``Structure`` from a JARVIS ``atoms`` dict.

    Args:
        atoms: ``{"lattice_mat": 3x3 (angstrom, rows are vectors), "coords":
            n x 3, "elements": n symbols, "cartesian": bool}``.

    Returns:
        The structure.

    Raises:
        ValueError: If a key is missing or the shapes disagree.
    """
    from pymatgen.core import Lattice, Structure

    try:
        lattice = np.asarray(atoms["lattice_mat"], dtype=float)
        coords = np.asarray(atoms["coords"], dtype=float)
        elements = list(atoms["elements"])
    except (KeyError, TypeError) as error:
        raise ValueError(f"malformed JARVIS atoms dict: missing {error}") from None
    if lattice.shape != (3, 3) or coords.ndim != 2 or coords.shape != (len(elements), 3):
        raise ValueError(
            f"malformed JARVIS atoms dict: lattice {lattice.shape}, coords {coords.shape}, "
            f"{len(elements)} elements"
        )
    cartesian = bool(atoms.get("cartesian", False))
    return Structure(Lattice(lattice), elements, coords, coords_are_cartesian=cartesian)


def jarvis_entries(
    records: Iterable[Mapping[str, Any]], targets: Sequence[str] = JARVIS_TARGETS
) -> Iterator[RawEntry]:
    """Entries from ``jarvis.db.figshare.data("dft_3d")`` records.

    Args:
        records: Dicts with ``jid``, ``atoms`` and the target keys (``"na"`` =
            missing; validation turns it into a missing value).
        targets: Target keys to keep.

    Yields:
        One entry per record; a malformed ``atoms`` dict gives an entry with
        ``structure_error`` set (reported by validation, never dropped).
    """
    for index, record in enumerate(records):
        entry_id = str(record.get("jid", "") or "")
        structure, error = None, None
        try:
            structure = jarvis_atoms_to_structure(record.get("atoms") or {})
        except (ValueError, KeyError, TypeError) as problem:
            error = str(problem)
        metadata = {k: record[k] for k in ("formula", "spg_number", "spg_symbol") if k in record}
        yield RawEntry(
            id=entry_id,
            origin=f"jarvis dft_3d record {index}",
            structure=structure,
            structure_error=error,
            labels={name: record.get(name) for name in targets},
            metadata=metadata,
        )


def fetch_jarvis(dataset: str = "dft_3d") -> list[RawEntry]:
    """Download JARVIS-DFT through jarvis-tools (needs the network)."""
    from jarvis.db.figshare import data

    return list(jarvis_entries(data(dataset)))


def mp20_entries(rows: Iterable[Mapping[str, str]], split: str) -> Iterator[RawEntry]:
    """Entries from a CDVAE ``mp_20/<split>.csv`` (columns ``material_id``, ``cif``...).

    Args:
        rows: CSV rows as dicts of strings.
        split: ``"val"`` or ``"test"`` (kept as ``cdvae_split``).

    Yields:
        One entry per row, labelled like the mirror's ``mp20_subset``.
    """
    for number, row in enumerate(rows, start=1):
        yield RawEntry(
            id=str(row.get("material_id", "")).strip(),
            origin=f"cdvae mp_20/{split}.csv:data row {number}",
            cif_text=row.get("cif") or "",
            labels={
                "formation_energy_per_atom": row.get("formation_energy_per_atom"),
                "band_gap": row.get("band_gap"),
                "e_above_hull": row.get("e_above_hull"),
            },
            metadata={
                "formula": row.get("pretty_formula"),
                "spg_num": row.get("spacegroup.number"),
                "cdvae_split": split,
            },
        )


def _get_text(url: str, timeout: float = 60.0) -> str:
    request = urllib.request.Request(url, headers={"User-Agent": "sagatsr"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read().decode("utf-8")


def fetch_mp20(get_text: Callable[[str], str] = _get_text) -> list[RawEntry]:
    """Download MP-20 validation and test CSVs from CDVAE's repository (needs the network)."""
    import csv
    import io

    csv.field_size_limit(1 << 30)
    entries: list[RawEntry] = []
    for split in ("val", "test"):
        text = get_text(CDVAE_MP20_URL.format(split=split))
        entries.extend(mp20_entries(csv.DictReader(io.StringIO(text)), split))
    return entries


def optimade_entries(pages: Iterable[Mapping[str, Any]]) -> Iterator[RawEntry]:
    """Entries from OQMD OPTIMADE response pages.

    Args:
        pages: JSON responses (``{"data": [{"id", "attributes": {...}}], ...}``).

    Yields:
        One entry per structure, id ``oqmd-<_oqmd_entry_id>``.
    """
    for page in pages:
        for record in page.get("data", []):
            attributes = record.get("attributes", {})
            entry_id = f"oqmd-{attributes.get('_oqmd_entry_id', record.get('id', ''))}"
            structure, error = None, None
            try:
                structure = _optimade_structure(attributes)
            except (ValueError, KeyError, TypeError) as problem:
                error = f"malformed OPTIMADE structure: {problem}"
            yield RawEntry(
                id=entry_id,
                origin=f"OQMD OPTIMADE structure {record.get('id', '?')}",
                structure=structure,
                structure_error=error,
                labels={k: attributes.get(v) for k, v in OQMD_TARGET_FIELDS.items()},
                metadata={"formula": attributes.get("chemical_formula_reduced")},
            )


def _optimade_structure(attributes: Mapping[str, Any]) -> Any:
    from pymatgen.core import Lattice, Structure

    lattice = np.asarray(attributes["lattice_vectors"], dtype=float)
    positions = np.asarray(attributes["cartesian_site_positions"], dtype=float)
    species_names = list(attributes["species_at_sites"])
    species = {s["name"]: s for s in attributes.get("species", [])}
    symbols = []
    for name in species_names:
        kind = species.get(name)
        symbols_of_kind = kind["chemical_symbols"] if kind else [name]
        if len(symbols_of_kind) != 1:
            raise ValueError(f"site species {name!r} is disordered ({symbols_of_kind})")
        symbols.append(symbols_of_kind[0])
    if lattice.shape != (3, 3) or positions.shape != (len(symbols), 3):
        raise ValueError(f"lattice {lattice.shape}, positions {positions.shape}")
    return Structure(Lattice(lattice), symbols, positions, coords_are_cartesian=True)


def fetch_oqmd(get_text: Callable[[str], str] = _get_text, page_limit: int = 500) -> list[RawEntry]:
    """Download OQMD's 5-site A3BC cells through OPTIMADE (needs the network)."""
    query = urllib.parse.urlencode({"filter": OQMD_FILTER, "page_limit": page_limit})
    url: str | None = f"{OQMD_OPTIMADE_URL}?{query}"
    pages = []
    while url:
        page = json.loads(get_text(url))
        pages.append(page)
        next_link = (page.get("links") or {}).get("next")
        url = next_link.get("href") if isinstance(next_link, dict) else next_link
    return list(optimade_entries(pages))
