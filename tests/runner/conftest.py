import sys
from pathlib import Path

# the runner tests share helpers.py
sys.path.insert(0, str(Path(__file__).parent))
