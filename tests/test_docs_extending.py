"""Every ```python block of docs/extending.md runs, in order, in one namespace
(the way tests/test_readme.py runs README.md's), and each extension point the page
promises has its section with an example."""

import pathlib
import re

import pytest

PAGE = pathlib.Path(__file__).resolve().parents[1] / "docs" / "extending.md"
SECTIONS = ["layer", "op", "optimizer", "loss", "metric", "callback"]


def _sections() -> dict[str, str]:
    parts = re.split(r"^## Adding an? (\w+)\n", PAGE.read_text(), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


@pytest.mark.parametrize("kind", SECTIONS)
def test_every_extension_point_has_a_section_with_an_example(kind):
    section = _sections()[kind]
    assert "```python\n" in section, f"'Adding a {kind}' has no example"


def test_extending_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)
    assert len(blocks) >= len(SECTIONS)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(PAGE), "exec"), namespace)
