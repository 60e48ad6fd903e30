"""The dashboard's shared code: reading the warehouse, the queries of each page, the
charts, the filters, the page list and the text formats.

The Streamlit scripts themselves (``dashboards/app.py`` and ``dashboards/views/``)
stay in the project folder, where ``streamlit run`` starts them; they import from here.
"""
