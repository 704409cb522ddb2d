import json

from sagatsr.bench.predict_speed import cif_files_from_zip, measure_predict_speed


def test_batched_and_one_at_a_time_agree(model_dir, prepared, tmp_path) -> None:
    mirror = prepared.out_dir.parent / "mirror"
    archive = next(mirror.rglob("structures.zip"))
    files = cif_files_from_zip(archive, tmp_path / "cifs", 12)
    assert len(files) == 12
    result = measure_predict_speed(
        model_dir, files, workers=2, batch_size=4, out_path=tmp_path / "p.json", command="test"
    )
    assert result["n_files"] == 12 and result["max_abs_difference"] < 1e-5
    assert result["before"]["seconds"] > 0 and result["after"]["seconds"] > 0
    assert json.loads((tmp_path / "p.json").read_text())["speedup"] == result["speedup"]
    from sagatsr.bench.readme import predict_section

    assert "12 CIF files" in predict_section({"predict": result})
