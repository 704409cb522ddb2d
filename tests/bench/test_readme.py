"""README figures come from reports/metrics: generated blocks, checked against the files."""

import json
import re
from pathlib import Path

import pytest

from sagatsr.bench.readme import SECTIONS, load_metrics, render_readme, update_readme

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_agrees_with_the_result_files() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    rendered = render_readme(text, load_metrics(ROOT / "reports" / "metrics"))
    assert rendered == text, "README figures differ from reports/metrics: run `sagatsr readme`"


def _github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_within_the_readme_reaches_a_heading_and_every_section_is_listed() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"^(#{2,3}) (.+)$", text, flags=re.MULTILINE)
    anchors = {_github_anchor(title) for _, title in headings}
    links = set(re.findall(r"\]\(#([^)]+)\)", text))
    assert links - anchors == set(), "README links to headings it does not have"
    assert anchors - links == set(), "README sections missing from its contents list"


def test_every_renderer_has_a_block_in_the_readme() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in SECTIONS:
        assert f"<!-- results:{name} -->" in text, name


def test_blocks_are_regenerated_and_missing_files_say_so(tmp_path) -> None:
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    readme = tmp_path / "README.md"
    readme.write_text(
        "intro\n<!-- results:featurize -->\nold 99 s\n<!-- /results:featurize -->\nend\n"
    )
    assert update_readme(readme, metrics, check=True) is False
    assert update_readme(readme, metrics) is False
    assert "Not measured yet" in readme.read_text() and "99 s" not in readme.read_text()
    assert update_readme(readme, metrics, check=True) is True
    result = json.loads((ROOT / "reports/metrics/featurize.json").read_text())
    (metrics / "featurize.json").write_text(json.dumps({**result, "dvc_stage": None}))
    update_readme(readme, metrics)
    text = readme.read_text()
    assert f"{result['graph_seconds']:.1f} s" in text and text.endswith("end\n")
    assert str(result["commit"])[:7] in text and "written by `dvc repro`" not in text
    (metrics / "featurize.json").write_text(json.dumps({**result, "dvc_stage": "headline@x"}))
    update_readme(readme, metrics)
    assert "written by `dvc repro` stage `headline@x`" in readme.read_text()
    (metrics / "featurize.json").write_text(json.dumps({**result, "dvc_stage": "headline@x"}))
    update_readme(readme, metrics)
    assert "written by `dvc repro` stage `headline@x`." in readme.read_text()


def test_an_unknown_block_is_an_error() -> None:
    with pytest.raises(KeyError, match="nope"):
        render_readme("<!-- results:nope -->\n<!-- /results:nope -->", {})


def test_every_results_marker_of_the_readme_is_a_block() -> None:
    from pathlib import Path

    from sagatsr.bench.readme import _BLOCK, SECTIONS

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    markers = re.findall(r"<!-- results:(\S+) -->", text)
    blocks = [match.group(2) for match in _BLOCK.finditer(text)]
    assert markers and blocks == markers  # a name the pattern misses would stay stale
    assert set(blocks) <= set(SECTIONS)


def test_the_encoding_table_shows_each_variant_and_the_verdict() -> None:
    from sagatsr.bench.readme import encodings_section

    def scores(recall: float, init: float | None) -> dict:
        return {
            "recall_at_5_group": recall,
            "recall_at_5_feature": recall - 0.1,
            "worst_target_group_recall_at_5": recall - 0.3,
            "seed_spearman": 0.3,
            "seed_top10_overlap": 0.3,
            "init_vs_trained_spearman": init,
            "entropy_ratio": 0.98,
            "top10_share": 0.12,
            "planted_mae_over_std": 0.2,
        }

    result = {
        "encodings": {
            "paper": {"scores": scores(0.8, 0.7)},
            "zero_init": {"scores": scores(0.85, None)},
        },
        "matbench_fold0": {"encodings": {"paper": {"val_mae": 0.0363}}},
        "verdict": {"best": "zero_init", "becomes_default": False, "reasons": ["no run"]},
        "commit": "abc1234",
        "date": "2026-12-02",
    }
    text = encodings_section({"ic_encodings": result})
    assert "| zero_init | 0.85 | 0.75 | 0.55 |" in text and "uniform start" in text
    assert "0.0363 eV/cell" in text and "not run" in text
    assert "**zero_init**" in text and "default stays paper (no run)." in text


def test_the_matbench_block_shows_validation_beside_test_by_ensemble_size() -> None:
    result = load_metrics(Path("reports/metrics"))["matbench_perovskites"]
    sizes = [
        {"members": 1, "mean_val_mae": 0.0334, "mean_test_mae": 0.034, "train_cpu_seconds": 1.0},
        {"members": 2, "mean_val_mae": 0.0309, "mean_test_mae": 0.032, "train_cpu_seconds": 2.0},
    ]
    text = SECTIONS["matbench"]({"matbench_perovskites": {**result, "by_ensemble_size": sizes}})
    assert "validation / test: k=1 0.0334 / 0.0340, k=2 0.0309 / 0.0320." in text
    older = [{**size, "mean_val_mae": float("nan")} for size in sizes]
    text = SECTIONS["matbench"]({"matbench_perovskites": {**result, "by_ensemble_size": older}})
    assert "Mean test MAE by ensemble size: k=1 0.0340, k=2 0.0320." in text
