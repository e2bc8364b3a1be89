"""The program registers exactly what it registered when tests/registrations/ was recorded
(every URN, type, parent, input, option, dependency, output and export), and the
offline review prints exactly what it printed: for the committed stacks and a fixed sample
of generated configs. Re-record on purpose with `venv/bin/python -m tests.registrations`."""

from pathlib import Path

import pytest

from tests import registrations

STACK_FILES = registrations.stack_files()
SAMPLES = range(len(registrations.sample_configs()))


@pytest.mark.parametrize("path", STACK_FILES, ids=[p.name for p in STACK_FILES])
def test_committed_stack_registers_and_reviews_as_recorded(path: Path) -> None:
    recorded = registrations.path_for(path.name).read_text()
    assert registrations.dumps(registrations.take_stack_file(path)) == recorded


@pytest.mark.parametrize("index", SAMPLES, ids=[registrations.sample_name(i) for i in SAMPLES])
def test_generated_config_registers_and_reviews_as_recorded(index: int) -> None:
    recorded = (registrations.HERE / registrations.sample_name(index)).read_text()
    assert registrations.current_sample(index) == recorded
