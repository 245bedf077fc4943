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
    for section, model in reference.nested_sections(Show):
        assert f"## [{section}]" in text or f"## [[{section}]]" in text
        for name, field in model.model_fields.items():
            assert f"| `{name}` |" in text
            assert field.description, f"{section}.{name} has no description for curators"


def test_every_example_is_valid_toml_and_every_curated_one_names_a_real_key() -> None:
    import tomllib

    keys = set()
    for section, model in reference.nested_sections(Show):
        for name, field in model.model_fields.items():
            keys.add(f"{section}.{name}")
            line = reference.example_for(f"{section}.{name}", name, field).strip("`")
            if line:
                parsed = tomllib.loads(line.replace("\\|", "|"))
                assert list(parsed) == [name]
        for sub, submodel in reference.nested_sections(model):
            keys.update(f"{section}.{sub}.{n}" for n in submodel.model_fields)
    assert set(reference.EXAMPLES) <= keys, set(reference.EXAMPLES) - keys
