"""Unit tests for the helpers package itself: cheap to import, submodules loaded on first use."""

import pytest

from nbtools import heavy_modules_loaded_by
import helpers
from helpers import course, data


def test_import_helpers_loads_no_heavy_library():
    # `import helpers` must stay cheap: heavy libraries load only when a submodule needs them.
    assert heavy_modules_loaded_by("helpers") == []


def test_submodules_load_on_first_use():
    assert helpers.data is data
    assert helpers.setup_notebook is course.setup_notebook
    with pytest.raises(AttributeError, match="no attribute 'solutions'"):
        helpers.solutions
