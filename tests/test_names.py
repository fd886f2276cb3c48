"""Near names for "did you mean …": case and accents ignored, globs understood, far names left out."""

from __future__ import annotations

from mcp_server.answers.names import edit_distance, fold, near_names

FILES = ["résumé 2026.txt", "Resume-old.pdf", "notes.md", "taxes 2025.pdf", "photo.jpg"]


def test_folding_ignores_case_and_accents() -> None:
    assert fold("Résumé ÉTÉ") == "resume ete"
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3


def test_a_glob_without_accents_finds_the_accented_name() -> None:
    assert near_names("resume*", FILES) == ["résumé 2026.txt", "Resume-old.pdf"]


def test_a_typo_finds_the_name_and_far_names_are_left_out() -> None:
    assert near_names("nightly-dcos", ["nightly-docs", "weekly", "photos"]) == ["nightly-docs"]
    assert near_names("texes", FILES) == ["taxes 2025.pdf"]
    assert near_names("zzzz", FILES) == []
    assert near_names("notes.md", FILES) == []  # the query itself is not a suggestion
