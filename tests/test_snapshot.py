"""The data/ snapshot of a mirror: an exact copy of each dataset folder, the mirror untouched."""

import pytest

from sagatsr.snapshot import snapshot_mirror


def write_mirror(root):
    (root / "a" / "sub").mkdir(parents=True)
    (root / "a" / "labels.csv").write_text("id,x\n1,2\n")
    (root / "a" / "sub" / "s.cif").write_text("data_s\n")
    (root / "b").mkdir()
    (root / "b" / "table.csv").write_text("id\n")
    return root


def test_a_snapshot_copies_what_differs_and_removes_what_the_mirror_lacks(tmp_path) -> None:
    mirror, out = write_mirror(tmp_path / "mirror"), tmp_path / "data"
    first = snapshot_mirror(mirror, out)
    assert sorted(p.relative_to(out).as_posix() for p in first.copied) == [
        "a/labels.csv",
        "a/sub/s.cif",
        "b/table.csv",
    ]
    assert first.removed == [] and (out / "a" / "sub" / "s.cif").read_text() == "data_s\n"
    assert snapshot_mirror(mirror, out).copied == []  # nothing differs
    (mirror / "a" / "labels.csv").write_text("id,x\n1,3\n")
    (mirror / "a" / "sub" / "s.cif").unlink()
    (out / "a" / ".old.cif.partial").write_text("an interrupted copy")
    (out / "elsewhere").mkdir()
    (out / "elsewhere" / "kept.txt").write_text("not a mirrored dataset")
    second = snapshot_mirror(mirror, out, datasets=["a"])
    assert second.copied == [out / "a" / "labels.csv"]
    assert sorted(second.removed) == [
        out / "a" / ".old.cif.partial",
        out / "a" / "sub" / "s.cif",
    ]
    assert (out / "a" / "labels.csv").read_text() == "id,x\n1,3\n"
    assert (out / "elsewhere" / "kept.txt").exists()
    assert sorted(p.name for p in (mirror / "a").rglob("*")) == ["labels.csv", "sub"]


def test_a_missing_mirror_or_dataset_is_named_before_anything_is_written(tmp_path) -> None:
    mirror, out = write_mirror(tmp_path / "mirror"), tmp_path / "data"
    with pytest.raises(FileNotFoundError, match="is not an existing folder"):
        snapshot_mirror(tmp_path / "nowhere", out)
    with pytest.raises(FileNotFoundError, match="dataset 'c' not found in mirror"):
        snapshot_mirror(mirror, out, datasets=["a", "c"])
    assert not out.exists()
