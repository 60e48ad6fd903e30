{#
    The canonical financial year label, `2016/17`, for a start year.
#}
{% macro financial_year_label(start_year) -%}
    ({{ start_year }}::varchar || '/' || lpad((({{ start_year }} + 1) % 100)::varchar, 2, '0'))
{%- endmacro %}
