"""The code fingerprint: comments, docstrings and layout do not count, code does; results record it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mrcfa import provenance
from mrcfa.provenance import CODE, code_fingerprint, current, stamp, tag

REPO = Path(__file__).resolve().parents[1]


def scratch_copy(root: Path, packages: tuple[str, ...] = ("mrcfa",)) -> Path:
    for name in packages:
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_every_fingerprinted_path_exists():
    assert all((REPO / p).exists() for p in CODE)
    assert current() == code_fingerprint(REPO) and len(current()) == 12


def test_comments_docstrings_and_layout_do_not_count_code_does(tmp_path):
    root = scratch_copy(tmp_path)
    today = code_fingerprint(REPO)
    assert code_fingerprint(root) == today  # the same code elsewhere
    loss = root / "mrcfa/models/loss.py"
    text = loss.read_text()
    # A comment, a line break inside brackets, blank lines and docstrings reworded: the same code.
    cosmetic = (text.replace("IGNORE_INDEX = 255\n", "# Pixels without a label.\nIGNORE_INDEX = (\n    255\n)\n")
                .replace('"""logits N×K×h×w, labels N×H×W."""', '"""Shapes: logits, labels."""\n\n')
                .replace('"""The released training loss', '"""The training loss of the release'))
    assert cosmetic.count("\n") > text.count("\n") + 3
    loss.write_text(cosmetic)
    assert code_fingerprint(root) == today
    edited = cosmetic.replace('"loss": 0.5 * seg + temporal', '"loss": 0.4 * seg + temporal')
    assert edited != cosmetic
    loss.write_text(edited)
    assert code_fingerprint(root) != today
    loss.write_text(text)
    assert code_fingerprint(root) == today

    # Where results go is no part of how they are made; a new model file is.
    layout = root / "mrcfa/layout.py"
    layout.write_text(layout.read_text() + "\nEXTRA = 1\n")
    assert code_fingerprint(root) == today
    (root / "mrcfa/models/extra.py").write_text("EXTRA = 1\n")
    assert code_fingerprint(root) != today


def test_stamp_records_the_fingerprint_and_git_as_information():
    s = stamp()
    assert s[provenance.KEY] == current() and set(s) == {provenance.KEY, "git_commit", "git_dirty"}
    git = provenance.git_state(REPO) if (REPO / ".git").exists() else {"commit": None, "dirty": None}
    assert s["git_commit"] == git["commit"]
    s["git_commit"] = "changed"
    assert stamp()["git_commit"] == git["commit"]  # each caller gets its own copy


def test_one_tag_per_kind_of_result():
    assert [tag(k) for k in provenance.KINDS] == [f"mrcfa.code_fingerprint.{k}" for k in ("train", "metrics", "bench")]
    with pytest.raises(ValueError, match="unknown kind"):
        tag("evaluate")
