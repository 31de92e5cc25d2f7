import sys
from pathlib import Path

import pytest
import torch

# the runner tests share helpers.py
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def single_thread():
    """One torch thread for the test: tiny training runs on a busy shared machine are many times
    faster without intra-op threads fighting for the cores (results are the same)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
