{#
    TRUE when the cell is a suppression marker from the `suppression_markers`
    project variable (`..`, `[x]`, `[c]`, `N/A - Offence code expired`, ...),
    compared case-insensitively after trimming (BOOLEAN; NULL for a NULL cell).
#}
{% macro is_suppression_marker(col) -%}
    (lower(trim({{ col }})) in ({{ suppression_marker_list() }}))
{%- endmacro %}
