from pathlib import Path

import pytest

from roadmap.content import RoadmapData, read_roadmap_file
from roadmap.services import load_roadmap

SMALL_ROADMAP = Path(__file__).resolve().parent.parent / "fixtures" / "roadmap.md"


@pytest.fixture
def small_roadmap(transactional_db) -> RoadmapData:
    """tests/fixtures/roadmap.md loaded into the database; its parsed data, for the counts a
    test expects (adding a resource to the real roadmap never breaks a browser test)."""
    load_roadmap(path=SMALL_ROADMAP)
    return read_roadmap_file(SMALL_ROADMAP)
