from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("torch")

from vision.training import train

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fuseg" / "train"


@pytest.mark.skipif(not DATA.is_dir(), reason="FUSeg data not beside the repository")
def test_training_runs_one_step_on_two_photos_and_resumes(tmp_path: Path) -> None:
    args = ["--out", str(tmp_path), "--limit", "2", "--batch", "2", "--epochs", "1", "--size", "64"]
    train.main(args)
    assert (tmp_path / "final.pt").exists()
    assert (tmp_path / "last.pt").exists()
    train.main([*args[:-2], "--size", "64", "--epochs", "1"])  # nothing left: resumes and ends
    assert "resumed from epoch 1" in (tmp_path / "train.log").read_text()
