"""mmicd: migration profile and joint M&E dashboard.

Data flows one way: io -> clean -> store -> engine -> profile/me -> charts/reports -> pages.
Only ``mmicd.ui``, ``pages/``, ``app.py`` and ``dashboard.py`` import Streamlit.
"""

from pathlib import Path

__version__ = "0.1.0"

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
