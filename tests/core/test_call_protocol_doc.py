"""The call protocol's steps are documented three times: the comments in
``call.layer_call``, ``core/call.py``'s docstring and ``core/README.md``. They
must name the same steps in the same order (issue 15: the code once numbered
1, 3a, 2, 3b, 5, 4, 6 against 1-6 in the docs)."""

from __future__ import annotations

import inspect
import pathlib
import re

from callax.core import call
from callax.core.layer import Layer

README = pathlib.Path(call.__file__).with_name("README.md")
_LISTED = re.compile(r"^(\d+)\. \*\*(.+?)\*\*", re.MULTILINE)
_COMMENT = re.compile(r"^\s*# (\d+)\. ([^:\n]+?)(?::|$)", re.MULTILINE)


def _steps(pairs: list[tuple[str, str]]) -> list[str]:
    numbers = [int(n) for n, _ in pairs]
    assert numbers == list(range(1, len(numbers) + 1)), numbers  # 1, 2, 3... in order
    return [title.strip() for _, title in pairs]


def test_code_docstring_and_readme_name_the_same_steps_in_order():
    code = _steps(_COMMENT.findall(inspect.getsource(call.layer_call)))
    docstring = _steps(_LISTED.findall(call.__doc__))
    text = README.read_text()
    section = text[text.index("## The call protocol") :]
    section = section[: section.index("\n## ", 1)]
    readme = _steps(_LISTED.findall(section))
    assert len(code) >= 10
    assert code == docstring == readme


def test_layer_call_is_the_protocol_itself():
    # A plain function as the method: no extra Python frame per layer call.
    assert Layer.__call__ is call.layer_call
