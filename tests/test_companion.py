"""The companion write-up is generated from the tables and shows every output."""

from idlib.companion import COMPANION_PATH, FIGURES, render_companion
from idlib.outputs import REPOSITORY_ROOT


def test_companion_matches_tables():
    assert COMPANION_PATH.exists(), "paper/companion.md is missing; run `make reproduce`"
    assert COMPANION_PATH.read_text() == render_companion(REPOSITORY_ROOT), (
        "paper/companion.md is stale: its numbers differ from the tables; run `python -m idlib.companion`"
    )


def test_companion_shows_every_figure_and_table():
    text = COMPANION_PATH.read_text()
    for path in sorted((REPOSITORY_ROOT / "figures").glob("*.png")):
        assert f"../figures/{path.name}" in text, f"{path.name} is not shown in the companion"
    for path in sorted((REPOSITORY_ROOT / "paper" / "tables").glob("*.csv")):
        assert f"paper/tables/{path.name}" in text, f"{path.name} is not cited in the companion"


def test_every_generated_figure_has_a_caption():
    stems = {stem for stem, _, _ in FIGURES}
    for path in sorted((REPOSITORY_ROOT / "figures").glob("*.png")):
        assert path.stem in stems, f"{path.stem} has no caption in idlib.companion.FIGURES"
