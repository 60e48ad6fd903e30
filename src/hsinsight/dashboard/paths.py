"""Folders of the project checkout the dashboard reads from or writes to at run time.

The package is installed editable from the project folder (``pip install -e .``), so
the project root is three levels above this package (``src/hsinsight/dashboard``):
``dashboards/`` (the Streamlit scripts and their ``static/`` folder) and
``data/boundaries/`` live there, not inside the package.
"""

from __future__ import annotations

from pathlib import Path

#: The project checkout: the folder holding ``src/``, ``dashboards/`` and ``data/``.
PROJECT_ROOT = Path(__file__).resolve().parents[3]
#: The folder ``streamlit run`` starts the app from (``app.py`` and ``views/``).
APP_DIR = PROJECT_ROOT / "dashboards"
#: The app's entry point.
APP = APP_DIR / "app.py"
#: Where Streamlit serves app static files from (beside ``app.py``).
STATIC_DIR = APP_DIR / "static"
#: The police force area boundaries the map draws.
BOUNDARIES = PROJECT_ROOT / "data" / "boundaries" / "pfa_2023_buc.geojson"
