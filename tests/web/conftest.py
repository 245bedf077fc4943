from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.helpers import Running, make_show, run_show


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    yield from run_show(make_show(tmp_path))
