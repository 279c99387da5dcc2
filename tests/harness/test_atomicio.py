"""test_atomicio.py: a failed write leaves the old file whole and no temporary behind."""

import os

import pytest

from ferryhost import atomicio


def test_write_and_replace(tmp_path):
    p = tmp_path / "f.json"
    atomicio.write_json(p, {"a": 1})
    atomicio.write_text(p, "second\n")
    assert p.read_text() == "second\n"
    assert os.listdir(tmp_path) == ["f.json"]


def test_failure_keeps_old_content(tmp_path, monkeypatch):
    p = tmp_path / "summary.csv"
    p.write_text("old\n")

    def boom(*a, **k):
        raise KeyboardInterrupt     # as if Ctrl-C arrived between write and rename
    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomicio.write_text(p, "new\n")
    assert p.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["summary.csv"]
