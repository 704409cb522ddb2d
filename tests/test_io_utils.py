"""Atomic output: a file is complete or absent, with the permissions open() would give."""

import json
import math
import os
import stat

import pytest

from sagatsr.io_utils import atomic_open, write_json


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path) -> None:
    path = tmp_path / "out" / "result.txt"
    with atomic_open(path) as handle:
        handle.write("first")
    assert path.read_text() == "first"
    with pytest.raises(RuntimeError), atomic_open(path) as handle:
        handle.write("half of the second")
        raise RuntimeError("interrupted")
    assert path.read_text() == "first"
    assert sorted(p.name for p in path.parent.iterdir()) == ["result.txt"]
    with pytest.raises(ValueError, match="modes 'w' and 'wb'"), atomic_open(path, "a"):
        pass


def test_files_get_the_permissions_of_the_creation_mask(tmp_path) -> None:
    previous = os.umask(0o022)
    try:
        with atomic_open(tmp_path / "shared.csv") as handle:
            handle.write("a,b\n")
        os.umask(0o077)
        write_json(tmp_path / "private.json", {"x": 1})
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "shared.csv").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "private.json").stat().st_mode) == 0o600


def test_write_json_writes_nan_and_objects_it_cannot_encode_as_text(tmp_path) -> None:
    path = tmp_path / "metrics.json"
    write_json(path, {"mae": math.nan, "where": tmp_path})
    loaded = json.loads(path.read_text())
    assert math.isnan(loaded["mae"]) and loaded["where"] == str(tmp_path)
    assert path.read_text().endswith("}\n")
