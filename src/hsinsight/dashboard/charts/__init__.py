"""The dashboard's charts: the shared house style and components, funnel plots and the map."""
