"""The SQL the dashboard runs, one module per page (``shared`` holds what several
pages and the frame round every page read) and ``bench`` the per-page registry the
benchmark and the lineage test use."""
