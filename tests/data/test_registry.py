"""Dataset registry: mirror layout, public download, and the no-mirror-no-network error."""

import urllib.error
from dataclasses import replace

import pytest

from sagatsr.data import registry
from sagatsr.data.registry import DatasetUnavailableError, get_dataset, list_datasets, open_source
from tests.support.datasets import write_mirror_dataset


def test_registered_datasets_and_units() -> None:
    assert list_datasets() == [
        "castelli_perovskites",
        "oqmd_perovskites",
        "mp20_subset",
        "jarvis_dft_3d",
    ]
    castelli = get_dataset("castelli_perovskites")
    assert castelli.target("e_form").unit == "eV/cell"
    assert get_dataset("oqmd_perovskites").target("formation_energy_per_atom").unit == "eV/atom"
    assert len(get_dataset("jarvis_dft_3d").targets) == 9
    with pytest.raises(KeyError, match="known datasets"):
        get_dataset("nope")
    with pytest.raises(KeyError, match="targets: e_form"):
        castelli.target("band_gap")


def test_oqmd_outlier_is_outside_the_plausible_range() -> None:
    low, high = get_dataset("oqmd_perovskites").target("formation_energy_per_atom").valid_range
    assert not low <= 25.44 <= high
    assert low <= -3.9 and high >= 3.0  # the real range of the mirror stays valid


def test_mirror_folder_layout(tmp_path) -> None:
    write_mirror_dataset(tmp_path / "oqmd_perovskites", bad=False)
    source = open_source("oqmd_perovskites", tmp_path)
    # the files are read from <mirror>/<name>/; a labels file without the dataset's target
    # columns is named, with the columns it has
    with pytest.raises(ValueError, match=r"labels\.csv has no column 'formation_energy_per_atom'"):
        list(source.iter_entries())
    with pytest.raises(FileNotFoundError, match="no folder castelli_perovskites/"):
        open_source("castelli_perovskites", tmp_path)


def test_no_mirror_and_no_network_is_one_clear_error(monkeypatch) -> None:
    def unreachable() -> list:
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    spec = replace(registry.DATASETS["mp20_subset"], download=unreachable)
    monkeypatch.setitem(registry.DATASETS, "mp20_subset", spec)
    with pytest.raises(DatasetUnavailableError) as info:
        open_source("mp20_subset", None)
    message = str(info.value)
    assert "SAGATSR_DATA_MIRROR" in message and "no mirror is configured" in message
    assert "raw.githubusercontent.com" in message and "name resolution" in message


def test_jarvis_mirror_reads_the_figshare_records(tmp_path) -> None:
    import json

    from tests.data.test_public import jarvis_record
    from tests.support.datasets import GOOD

    folder = tmp_path / "jarvis_dft_3d"
    folder.mkdir()
    (folder / "dft_3d.json").write_text(json.dumps([jarvis_record("JVASP-1", GOOD["p-1"])]))
    assert [e.id for e in open_source("jarvis_dft_3d", tmp_path).iter_entries()] == ["JVASP-1"]
    (folder / "dft_3d.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"dft_3d\.json"):
        open_source("jarvis_dft_3d", tmp_path)
