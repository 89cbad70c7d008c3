# The pytest suite of the Python module, run by ctest (python/CMakeLists.txt) with PYTHONPATH set to
# the build tree's python/ folder.
import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
