import subprocess

from sagatsr.profiles import activate_profile
from sagatsr.provenance import git_commit, parts_provenance, run_info


def git(repo, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_dirty_ignores_what_the_pipeline_writes(tmp_path) -> None:
    git(tmp_path, "init", "-q")
    for name in ("code.py", "dvc.lock"):
        (tmp_path / name).write_text("a\n")
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "m.json").write_text("{}\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "c")
    assert git_commit(tmp_path)["dirty"] is False
    (tmp_path / "dvc.lock").write_text("b\n")
    (tmp_path / "reports" / "m.json").write_text('{"x": 1}\n')
    assert git_commit(tmp_path)["dirty"] is False
    (tmp_path / "code.py").write_text("b\n")
    info = git_commit(tmp_path)
    assert info["dirty"] is True and len(info["commit"]) == 40
    assert git_commit(tmp_path / "nowhere") == {"commit": "unknown", "dirty": None}


def test_a_switched_in_profile_is_not_a_change_but_an_edit_of_it_is(tmp_path) -> None:
    tmp_path = tmp_path / "my repository"  # a root with a space in its path
    tmp_path.mkdir()
    git(tmp_path, "init", "-q")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "quick.yaml").write_text("epochs: 2\n")
    (tmp_path / "profiles" / "full.yaml").write_text("epochs: 150\n")
    activate_profile(
        "quick", profiles_dir=tmp_path / "profiles", params_path=tmp_path / "params.yaml"
    )
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "c")
    activate_profile(
        "full", profiles_dir=tmp_path / "profiles", params_path=tmp_path / "params.yaml"
    )
    assert git_commit(tmp_path)["dirty"] is False
    # From a subfolder only that folder's changes count (the status is limited to it).
    assert git_commit(tmp_path / "profiles")["dirty"] is False
    (tmp_path / "params.yaml").write_text((tmp_path / "params.yaml").read_text() + "lr: 1\n")
    assert git_commit(tmp_path)["dirty"] is True
    activate_profile(
        "full", profiles_dir=tmp_path / "profiles", params_path=tmp_path / "params.yaml"
    )
    (tmp_path / "profiles" / "full.yaml").write_text("epochs: 151\n")  # an edited profile
    assert git_commit(tmp_path)["dirty"] is True


def test_a_copied_tree_takes_the_commit_its_sender_set(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SAGATSR_SOURCE_COMMIT", raising=False)
    monkeypatch.delenv("SAGATSR_SOURCE_DIRTY", raising=False)
    assert git_commit(tmp_path) == {"commit": "unknown", "dirty": None}
    # A copy with stale git state: git says one commit, the sender knows the real one.
    git(tmp_path, "init", "-q")
    (tmp_path / "code.py").write_text("a\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "c")
    assert len(git_commit(tmp_path)["commit"]) == 40
    monkeypatch.setenv("SAGATSR_SOURCE_COMMIT", "a" * 40)
    assert git_commit(tmp_path) == {"commit": "a" * 40, "dirty": None}
    monkeypatch.setenv("SAGATSR_SOURCE_DIRTY", "0")
    assert git_commit(tmp_path) == {"commit": "a" * 40, "dirty": False}
    monkeypatch.setenv("SAGATSR_SOURCE_DIRTY", "1")
    assert git_commit(tmp_path / "nowhere")["dirty"] is True


def test_run_info_fields() -> None:
    info = run_info("cmd")
    assert info["command"] == "cmd"
    assert {"commit", "dirty", "hardware", "python", "torch", "date"} <= set(info)
    assert {"cpu", "cpu_cores", "gpu"} <= set(info["hardware"])


def test_a_result_written_by_a_dvc_stage_names_it(monkeypatch) -> None:
    monkeypatch.delenv("DVC_STAGE", raising=False)
    assert run_info("cmd")["dvc_stage"] is None
    monkeypatch.setenv("DVC_STAGE", "headline@throughput")  # what `dvc repro` sets
    assert run_info("cmd")["dvc_stage"] == "headline@throughput"


def test_a_merged_part_keeps_the_provenance_of_its_own_parts() -> None:
    child = {**run_info("child"), "datasets": {}}
    merged = {**run_info("merge"), "parts": parts_provenance([child])}
    provenance = parts_provenance([merged, child])
    assert [p["command"] for p in provenance] == ["merge", "child"]
    assert provenance[0]["parts"][0]["command"] == "child" and "parts" not in provenance[1]
    assert "datasets" not in provenance[1]
