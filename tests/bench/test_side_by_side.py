"""Benchmark parts run as processes side by side."""

import sys

import pytest

from sagatsr.bench.side_by_side import run_benchmark_parts, run_side_by_side, split_evenly
from sagatsr.cli import main
from sagatsr.runtime import available_cores

# A stand-in for `sagatsr benchmark`: writes its arguments and thread count to --out.
_STAND_IN = """
import json, os, sys
args = sys.argv[1:]
out = args[args.index("--out") + 1]
if "fail" in args:
    sys.exit(3)
with open(out, "w") as handle:
    json.dump({"args": args, "threads": os.environ["OMP_NUM_THREADS"]}, handle)
"""


def test_items_are_split_into_contiguous_groups_of_nearly_equal_size() -> None:
    names = ["a", "b", "c", "d", "e", "f", "g"]
    assert split_evenly(names, 2) == [["a", "b", "c", "d"], ["e", "f", "g"]]
    assert split_evenly(names, 3) == [["a", "b", "c"], ["d", "e"], ["f", "g"]]
    assert split_evenly(["a", "b"], 4) == [["a"], ["b"]]
    assert split_evenly(names, 1) == [names]
    with pytest.raises(ValueError, match="at least 1"):
        split_evenly(names, 0)


def test_every_process_runs_to_its_end_and_each_failure_is_named(tmp_path) -> None:
    marker = tmp_path / "second.txt"
    ok = [sys.executable, "-c", f"open({str(marker)!r}, 'w').write('done')"]
    failing = [sys.executable, "-c", "import sys; sys.exit(4)"]
    with pytest.raises(RuntimeError, match="exited 4") as error:
        run_side_by_side([failing, ok], threads=1)
    assert marker.read_text() == "done"  # the other process was not stopped
    assert "sys.exit(4)" in str(error.value) and "second.txt" not in str(error.value)
    run_side_by_side([ok, ok], threads=1)


def test_parts_get_their_items_the_shared_options_and_a_share_of_the_cores(tmp_path) -> None:
    script = tmp_path / "stand_in.py"
    script.write_text(_STAND_IN)
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "part_1.json").write_text("{}")  # left by an earlier run
    parts = run_benchmark_parts(
        "ic_encodings",
        "--encodings",
        ["paper", "normalized", "entmax"],
        processes=2,
        arguments=["--seeds", "0", "1"],
        parts_dir=tmp_path / "parts",
        program=[sys.executable, str(script)],
    )
    out_0, out_1 = (str(tmp_path / "parts" / f"part_{i}.json") for i in (0, 1))
    assert [part["args"] for part in parts] == [
        ["ic_encodings", "--encodings", "paper", "normalized", "--seeds", "0", "1", "--out", out_0],
        ["ic_encodings", "--encodings", "entmax", "--seeds", "0", "1", "--out", out_1],
    ]
    share = str(max(1, available_cores() // 2))
    assert [part["threads"] for part in parts] == [share, share]
    with pytest.raises(RuntimeError, match="exited 3"):
        run_benchmark_parts(
            "ic_encodings",
            "--encodings",
            ["paper", "fail"],
            processes=2,
            arguments=[],
            parts_dir=tmp_path / "parts",
            program=[sys.executable, str(script)],
        )


def test_the_command_line_forwards_its_settings_to_each_part(tmp_path, capsys) -> None:
    # No prepared datasets under --prepared-root: both parts (real `sagatsr benchmark`
    # processes) fail, and the message shows what each was given.
    work = tmp_path / "work"
    argv = ["benchmark", "ic_faithfulness", "--processes", "2", "--n-train", "50"]
    argv += ["--prepared-root", str(tmp_path / "none"), "--work-dir", str(work)]
    assert main([*argv, "--out", str(tmp_path / "out.json")]) == 1
    message = capsys.readouterr().err
    for dataset in ("castelli_perovskites", "oqmd_perovskites"):
        assert f"--datasets {dataset} --prepared-root {tmp_path / 'none'} --n-train 50" in message
    assert message.count(f"--work-dir {work}") == 2
    assert not (tmp_path / "out.json").exists()
    with pytest.raises(SystemExit) as usage:
        main(["benchmark", "ic_encodings", "--processes", "0"])
    assert usage.value.code == 2
    assert "at least 1" in capsys.readouterr().err
