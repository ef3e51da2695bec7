"""Fixtures of the evaluation tests (helpers live in evalhelpers.py)."""
import pytest
from evalhelpers import load_bench


@pytest.fixture(scope='session')
def reference():
    """benchmarks/eval_reference.py (official-design evaluators)."""
    return load_bench('eval_reference')


@pytest.fixture(scope='session')
def bench():
    """benchmarks/eval_bench.py (random case generators)."""
    return load_bench('eval_bench')
