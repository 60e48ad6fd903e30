{#
    The `suppression_markers` project variable as a comma-separated list of SQL
    string literals, lower case and quoted, for an `in (...)` test.
#}
{% macro suppression_marker_list() -%}
    {%- for marker in var('suppression_markers') -%}
        '{{ marker | lower | replace("'", "''") }}'{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
