from __future__ import annotations

from installation.show import reference
from installation.show.schema import Show


def test_docs_show_file_is_in_step_with_the_schema() -> None:
    written = reference.DOC.read_text("utf-8")
    assert written == reference.render(), (
        "docs/show-file.md is out of date: run python -m installation.show.reference --write"
    )


def test_every_key_of_every_section_is_documented() -> None:
    text = reference.render()
    for section, model in reference._nested(Show):
        assert f"## [{section}]" in text
        for name, field in model.model_fields.items():
            assert f"| `{name}` |" in text
            assert field.description, f"{section}.{name} has no description for curators"
