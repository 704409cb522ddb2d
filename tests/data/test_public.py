"""Loaders of the public originals, on small records shaped like each service's output."""

import json

import numpy as np
import pandas as pd
import pytest

from sagatsr.data import public
from sagatsr.data.records import TargetSpec
from sagatsr.data.validation import load_records
from tests.support.datasets import GOOD, cif


def jarvis_record(jid: str, structure, **targets) -> dict:
    return {
        "jid": jid,
        "formula": structure.composition.reduced_formula,
        "atoms": {
            "lattice_mat": structure.lattice.matrix.tolist(),
            "coords": structure.frac_coords.tolist(),
            "elements": [s.specie.symbol for s in structure],
            "abc": list(structure.lattice.abc),
            "angles": list(structure.lattice.angles),
            "cartesian": False,
            "props": [""] * len(structure),
        },
        **{name: targets.get(name, "na") for name in public.JARVIS_TARGETS},
    }


def test_jarvis_records_become_entries_with_missing_targets() -> None:
    srtio3 = GOOD["p-1"]
    cartesian = jarvis_record("JVASP-2", GOOD["p-2"], optb88vdw_bandgap=3.1)
    cartesian["atoms"]["coords"] = GOOD["p-2"].cart_coords.tolist()
    cartesian["atoms"]["cartesian"] = True
    records = [
        jarvis_record("JVASP-1", srtio3, formation_energy_peratom=-3.4, optb88vdw_bandgap=1.7),
        cartesian,
        {"jid": "JVASP-3", "atoms": {"lattice_mat": [[1, 0, 0]], "coords": [], "elements": []}},
    ]
    entries = list(public.jarvis_entries(records))
    assert [e.id for e in entries] == ["JVASP-1", "JVASP-2", "JVASP-3"]
    assert entries[0].structure.matches(srtio3)
    assert np.allclose(entries[1].structure.frac_coords, GOOD["p-2"].frac_coords)
    assert entries[2].structure is None and "malformed" in entries[2].structure_error
    assert entries[0].labels["formation_energy_peratom"] == -3.4
    assert entries[0].labels["bulk_modulus_kv"] == "na"

    targets = [TargetSpec(n, "u", n) for n in public.JARVIS_TARGETS]
    result = load_records(entries, targets, dataset="jarvis_dft_3d")
    assert [r.id for r in result.records] == ["JVASP-1", "JVASP-2"]
    assert np.isnan(result.records[0].targets["epsx"])
    assert result.records[1].targets["optb88vdw_bandgap"] == 3.1
    kinds = result.report.frame().groupby("id")["kind"].apply(set)
    assert kinds["JVASP-3"] == {"unparsable_cif"}
    assert "missing_target" in kinds["JVASP-1"]


def test_matbench_folds_are_the_official_kfold() -> None:
    folds = public.matbench_folds(50)
    assert sorted(np.bincount(folds).tolist()) == [10] * 5
    from sklearn.model_selection import KFold

    first_test = next(KFold(5, shuffle=True, random_state=18012019).split(np.arange(50)))[1]
    assert (folds[first_test] == 0).all()


def test_castelli_from_matminer_frames() -> None:
    structures = list(GOOD.values())
    frame = pd.DataFrame({"structure": structures, "e_form": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    extra = pd.DataFrame(
        {"gap gllbsc": [0.0, 0.1, 1.5, 2.0, 0.0, 0.0], "vbm": range(6), "mu_b": [0] * 6}
    )
    entries = public.castelli_entries(frame, extra)
    assert [e.id for e in entries] == [f"mb-perovskites-0000{i}" for i in range(1, 7)]
    assert [e.metadata["anion_set"] for e in entries] == ["O3", "O3", "NO2", "O3", "O3", "I3"]
    assert entries[2].labels == {"e_form": 3.0, "gap_gllbsc": 1.5}
    assert entries[2].metadata["vbm"] == 2
    folds = [e.metadata["matbench_test_fold"] for e in entries]
    assert folds == public.matbench_folds(6).tolist()
    with pytest.raises(ValueError, match="rows"):
        public.castelli_entries(frame, extra.iloc[:5])


@pytest.mark.parametrize(
    ("symbols", "expected"),
    [
        (["O"] * 3, "O3"),
        (["N", "O", "O"], "NO2"),
        (["N", "N", "O"], "N2O"),
        (["F", "N", "O"], "FNO"),
        (["S", "O", "O"], "O2S"),
        (["O"] * 6, "O3"),
    ],
)
def test_anion_set_names(symbols, expected) -> None:
    assert public.anion_set(symbols) == expected


def test_mp20_download_parsing() -> None:
    header = (
        "material_id,formation_energy_per_atom,band_gap,pretty_formula,e_above_hull,"
        "elements,cif,spacegroup.number\n"
    )

    def fake_get(url: str) -> str:
        split = "val" if "val.csv" in url else "test"
        text = cif(GOOD["p-1"]).replace('"', "'")
        return header + f'mp-{split},-3.5,1.8,SrTiO3,0.0,"[\'Sr\']","{text}",221\n'

    entries = public.fetch_mp20(get_text=fake_get)
    assert [e.id for e in entries] == ["mp-val", "mp-test"]
    assert entries[0].metadata == {"formula": "SrTiO3", "spg_num": "221", "cdvae_split": "val"}
    assert entries[1].labels["band_gap"] == "1.8" and "_cell_length_a" in entries[1].cif_text


def test_oqmd_optimade_pages_and_pagination() -> None:
    srtio3 = GOOD["p-1"]

    def record(entry_id: int, species=None) -> dict:
        names = [s.specie.symbol for s in srtio3]
        return {
            "id": str(entry_id),
            "type": "structures",
            "attributes": {
                "lattice_vectors": srtio3.lattice.matrix.tolist(),
                "cartesian_site_positions": srtio3.cart_coords.tolist(),
                "species_at_sites": names,
                "species": species
                or [
                    {"name": n, "chemical_symbols": [n], "concentration": [1.0]} for n in set(names)
                ],
                "_oqmd_entry_id": entry_id,
                "_oqmd_delta_e": -3.1,
                "_oqmd_band_gap": 1.9,
                "chemical_formula_reduced": "O3SrTi",
            },
        }

    mixed = [
        {"name": n, "chemical_symbols": ["Sr", "Ba"], "concentration": [0.5, 0.5]}
        for n in ("Sr", "Ti", "O")
    ]
    pages = {
        "first": {"data": [record(11)], "links": {"next": {"href": "second"}}},
        "second": {"data": [record(12, species=mixed)], "links": {"next": None}},
    }
    requested = []

    def fake_get(url: str) -> str:
        requested.append(url)
        return json.dumps(pages["second" if url == "second" else "first"])

    entries = public.fetch_oqmd(get_text=fake_get)
    assert "A3BC" in requested[0] and requested[1] == "second"
    assert [e.id for e in entries] == ["oqmd-11", "oqmd-12"]
    assert entries[0].structure.matches(srtio3)
    assert entries[0].labels == {"formation_energy_per_atom": -3.1, "band_gap": 1.9}
    assert entries[1].structure is None and "disordered" in entries[1].structure_error
