"""The datasets the project knows: targets, units, mirror layout and public download.

``open_source(name, mirror)`` reads the dataset from a mirror-layout folder
when one is configured (``<mirror>/<name>/...``) and otherwise downloads the
public original; with neither, it raises :class:`DatasetUnavailableError`,
whose message says how to configure the mirror.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sagatsr.config import MIRROR_ENV_VAR
from sagatsr.data import public
from sagatsr.data.records import RawEntry, TargetSpec
from sagatsr.data.sources import CifArchiveSource, CifColumnCsvSource, EntryListSource, Source

#: Physically plausible bounds used by validation (outside: "absurd_target").
FORMATION_ENERGY_PER_ATOM = (-6.0, 6.0)  # eV/atom; the most stable fluorides are near -4.5
BAND_GAP = (0.0, 25.0)  # eV


class DatasetUnavailableError(RuntimeError):
    """Neither a mirror nor the public original could be read."""


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset the project can load.

    Attributes:
        name: Registry name, also the mirror folder name.
        description: One line for reports.
        targets: Regression targets with units and plausible ranges.
        citation: Reference to cite when the data are used.
        open_mirror: Builds the source from the dataset's mirror folder.
        download: Fetches the public original (needs the network).
        download_host: Where ``download`` goes, for error messages.
        metadata_types: Metadata columns converted to a type by validation
            (an entry whose value does not convert is reported).
        subset_rule: How subsets are chosen (a key of
            :data:`sagatsr.data.subsets.SUBSET_RULES`).
        split_rule: How splits are made: ``"matbench_folds"`` (the official
            folds, from the ``matbench_test_fold`` metadata), ``"random"``
            (seeded train/validation/test) or ``"column"`` (the values
            ``train``/``val``/``test`` of the metadata column ``split_column``).
        split_column: The column of the ``"column"`` rule.
    """

    name: str
    description: str
    targets: tuple[TargetSpec, ...]
    citation: str
    open_mirror: Callable[[Path], Source]
    download: Callable[[], list[RawEntry]]
    download_host: str
    metadata_types: dict[str, type] = field(default_factory=dict)
    subset_rule: str = "none"
    split_rule: str = "random"
    split_column: str = ""

    @property
    def target_names(self) -> tuple[str, ...]:
        """Names of the targets."""
        return tuple(t.name for t in self.targets)

    def target(self, name: str) -> TargetSpec:
        """The target called ``name``.

        Raises:
            KeyError: Listing the dataset's targets.
        """
        for spec in self.targets:
            if spec.name == name:
                return spec
        raise KeyError(
            f"{self.name} has no target {name!r} (targets: {', '.join(self.target_names)})"
        )


_CASTELLI_TARGETS = (
    TargetSpec("e_form", "eV/cell", "heat of formation of the 5-atom cell", (-10.0, 15.0)),
    TargetSpec("gap_gllbsc", "eV", "GLLB-SC band gap", BAND_GAP),
)
_OQMD_TARGETS = (
    TargetSpec(
        "formation_energy_per_atom", "eV/atom", "OQMD formation energy", FORMATION_ENERGY_PER_ATOM
    ),
    TargetSpec("band_gap", "eV", "OQMD band gap", BAND_GAP),
)
_MP20_TARGETS = (
    TargetSpec(
        "formation_energy_per_atom", "eV/atom", "formation energy", FORMATION_ENERGY_PER_ATOM
    ),
    TargetSpec("band_gap", "eV", "band gap", BAND_GAP),
    TargetSpec("e_above_hull", "eV/atom", "energy above the convex hull", (0.0, 10.0)),
)
_JARVIS_TARGETS = (
    TargetSpec(
        "formation_energy_peratom", "eV/atom", "formation energy", FORMATION_ENERGY_PER_ATOM
    ),
    TargetSpec("optb88vdw_bandgap", "eV", "OptB88vdW band gap", BAND_GAP),
    TargetSpec("optb88vdw_total_energy", "eV/atom", "OptB88vdW total energy", (-30.0, 10.0)),
    TargetSpec("ehull", "eV/atom", "energy above the convex hull", (-0.1, 20.0)),
    TargetSpec("bulk_modulus_kv", "GPa", "Voigt bulk modulus", (0.0, 1000.0)),
    TargetSpec("shear_modulus_gv", "GPa", "Voigt shear modulus", (0.0, 1000.0)),
    TargetSpec("epsx", "1", "dielectric constant x (OptB88vdW)", (1.0, 1000.0)),
    TargetSpec("epsy", "1", "dielectric constant y (OptB88vdW)", (1.0, 1000.0)),
    TargetSpec("epsz", "1", "dielectric constant z (OptB88vdW)", (1.0, 1000.0)),
)


def _archive(folder: Path, targets: tuple[TargetSpec, ...]) -> Source:
    return CifArchiveSource(
        folder / "structures.zip", folder / "labels.csv", targets=[t.name for t in targets]
    )


def _jarvis_mirror(folder: Path) -> Source:
    """A JARVIS mirror folder holds ``dft_3d.json`` (the figshare records, as a list)."""
    import json

    path = folder / "dft_3d.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist (expected the dft_3d records as JSON)")
    records = json.loads(path.read_text(encoding="utf-8"))
    return EntryListSource(list(public.jarvis_entries(records)), str(path))


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            name="castelli_perovskites",
            description="Castelli cubic-derived ABX3 perovskites (Matbench matbench_perovskites)",
            targets=_CASTELLI_TARGETS,
            citation="Castelli et al., Energy Environ. Sci. 5, 9034 (2012); Dunn et al., "
            "npj Comput. Mater. 6, 138 (2020) (Matbench)",
            open_mirror=lambda folder: _archive(folder, _CASTELLI_TARGETS),
            download=public.fetch_castelli,
            download_host="matminer / figshare",
            metadata_types={"matbench_test_fold": int},
            subset_rule="anion_set",
            split_rule="matbench_folds",
        ),
        DatasetSpec(
            name="oqmd_perovskites",
            description="OQMD 5-atom A3BC cells (OPTIMADE): ABO3, ABX3 halides and others",
            targets=_OQMD_TARGETS,
            citation="Saal et al., JOM 65, 1501 (2013); Kirklin et al., npj Comput. Mater. "
            "1, 15010 (2015) (OQMD, CC-BY 4.0)",
            open_mirror=lambda folder: _archive(folder, _OQMD_TARGETS),
            download=public.fetch_oqmd,
            download_host="oqmd.org (OPTIMADE)",
            subset_rule="structure",
        ),
        DatasetSpec(
            name="mp20_subset",
            description="MP-20 validation and test splits (Materials Project, <= 20 atoms)",
            targets=_MP20_TARGETS,
            citation="Xie et al., ICLR 2022 (CDVAE, MP-20); Jain et al., APL Mater. 1, "
            "011002 (2013) (Materials Project)",
            open_mirror=lambda folder: CifColumnCsvSource(
                folder / "mp20_val_test.csv.gz", targets=[t.name for t in _MP20_TARGETS]
            ),
            download=public.fetch_mp20,
            download_host="raw.githubusercontent.com (CDVAE)",
        ),
        DatasetSpec(
            name="jarvis_dft_3d",
            description="JARVIS-DFT 3D crystals with the SA-GAT-SR paper's nine targets",
            targets=_JARVIS_TARGETS,
            citation="Choudhary et al., npj Comput. Mater. 6, 173 (2020) (JARVIS)",
            open_mirror=_jarvis_mirror,
            download=public.fetch_jarvis,
            download_host="figshare (jarvis-tools)",
            subset_rule="structure",
        ),
    )
}


def _no_download() -> list[RawEntry]:
    raise OSError("a user's dataset is read from its own path, there is nothing to download")


def user_dataset(
    path: str | os.PathLike[str],
    *,
    name: str,
    targets: Sequence[TargetSpec],
    id_column: str = "id",
    cif_column: str = "cif",
    labels: str | os.PathLike[str] | None = None,
    split_column: str = "",
    structure_file: str = "",
) -> DatasetSpec:
    """A dataset spec for a user's own file or folder (:mod:`sagatsr.data.user`).

    Subsets follow the structure rule (perovskite subsets where the site roles
    find perovskites, ``all`` always); the split is seeded random unless
    ``split_column`` names a column of ``train``/``val``/``test`` values.

    Args:
        path: The data (a folder or zip of CIFs, a CSV, JSON, extended XYZ or ASE database).
        name: Dataset name (folder names, reports).
        targets: The targets, with units.
        id_column: Id column / key.
        cif_column: Column of CIF text (CSV and JSON).
        labels: Labels CSV of a folder or zip of CIFs.
        split_column: Column with each entry's part; ``""``: random split.
        structure_file: For a folder or zip of calculation folders, the structure
            file's name inside each (``CONTCAR``); ``""``: files named by id.

    Returns:
        The spec; ``open_mirror`` ignores its folder argument and reads ``path``.

    Raises:
        ValueError: If ``name`` is a registered dataset or there is no target.
    """
    from sagatsr.data.user import user_source

    if name in DATASETS:
        raise ValueError(f"{name!r} is a registered dataset; give your dataset another --name")
    if not targets:
        raise ValueError("give at least one target column")
    names = [t.name for t in targets]

    def source(_: Path) -> Source:
        return user_source(
            path,
            targets=names,
            id_column=id_column,
            cif_column=cif_column,
            labels=labels,
            structure_file=structure_file,
        )

    return DatasetSpec(
        name=name,
        description=f"user dataset from {path}",
        targets=tuple(targets),
        citation="",
        open_mirror=source,
        download=_no_download,
        download_host=str(path),
        subset_rule="structure",
        split_rule="column" if split_column else "random",
        split_column=split_column,
    )


def list_datasets() -> list[str]:
    """Names of the registered datasets."""
    return list(DATASETS)


def get_dataset(name: str) -> DatasetSpec:
    """The spec of dataset ``name``.

    Raises:
        KeyError: For an unknown name; the message lists the known datasets.
    """
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}") from None


def open_source(name: str, mirror: str | os.PathLike[str] | None) -> Source:
    """Open dataset ``name`` from a mirror folder, or download the public original.

    Args:
        name: Registered dataset name.
        mirror: Mirror root (holding ``<name>/``), or ``None`` to download.

    Returns:
        A source of raw entries.

    Raises:
        KeyError: For an unknown dataset.
        FileNotFoundError: If the mirror lacks the dataset's folder or files.
        DatasetUnavailableError: If there is no mirror and the download fails.
    """
    spec = get_dataset(name)
    if mirror is not None:
        folder = Path(mirror) / name
        if not folder.is_dir():
            raise FileNotFoundError(
                f"dataset mirror {mirror} has no folder {name}/ (set {MIRROR_ENV_VAR} to a "
                "folder laid out like ../shared/datasets)"
            )
        return spec.open_mirror(folder)
    try:
        entries = spec.download()
    except (OSError, ConnectionError, TimeoutError) as error:
        raise DatasetUnavailableError(
            f"cannot read dataset {name}: no mirror is configured and downloading it from "
            f"{spec.download_host} failed ({type(error).__name__}: {error}). Point the "
            f"{MIRROR_ENV_VAR} environment variable (or the --raw option / raw_dir notebook "
            "parameter) at a folder laid out like ../shared/datasets, e.g. "
            f"export {MIRROR_ENV_VAR}=/path/to/shared/datasets"
        ) from error
    return EntryListSource(entries, f"public download ({spec.download_host})")
