"""Runs the fault catalog: every case in ``cases_*.py`` (see fault_case.py).

.venv/bin/python -m pytest -n 0 -q tests/faults/test_catalog.py
"""

from __future__ import annotations

import importlib
import inspect

import pytest
from fault_case import Case, check_message

AREAS = [
    "cases_layers",
    "cases_calls",
    "cases_data",
    "cases_compile",
    "cases_callbacks",
    "cases_saving",
    "cases_concurrency",
]


def _load() -> list[Case]:
    cases: list[Case] = []
    for area in AREAS:
        try:
            module = importlib.import_module(area)
        except ModuleNotFoundError as e:
            if e.name != area:
                raise
            continue
        cases.extend(module.CASES)
    return cases


CASES = _load()


def _param(case: Case):
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=case.id, marks=marks)


def test_catalog_is_well_formed():
    ids = [c.id for c in CASES]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate case ids: {duplicates}"
    assert len(CASES) >= 150, f"the catalog holds {len(CASES)} cases"
    for case in CASES:
        assert case.raises is not None or not case.must_contain, case.id


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_fault(case: Case, tmp_path):
    args = (tmp_path,) if len(inspect.signature(case.action).parameters) == 1 else ()
    if case.raises is None:
        result = case.action(*args)
        if case.check is not None:
            case.check(result)
        return
    with pytest.raises(case.raises) as info:
        case.action(*args)
    check_message(info.value, case.must_contain)
