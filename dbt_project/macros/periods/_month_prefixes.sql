{#
    The three-letter month prefixes `jan` to `dec` as a SQL list literal, so a
    month's number is its list_position.
#}
{% macro _month_prefixes() -%}
    ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']
{%- endmacro %}
