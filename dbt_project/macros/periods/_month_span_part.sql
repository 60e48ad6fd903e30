{#
    One capture group of _month_span_pattern in a span-of-months header, after
    normalise_name; NULL when the header has another shape.
#}
{% macro _month_span_part(col, group) -%}
    nullif(regexp_extract({{ normalise_name(col) }}, '{{ _month_span_pattern() }}', {{ group }}), '')
{%- endmacro %}
