{#
    The last day (DATE) of the last month of a span of months as the ONS
    Appendix tables head their columns: `Apr 2002 to Mar 2003` gives 2003-03-31.
    NULL for text of any other shape.
#}
{% macro month_span_end(col) -%}
    last_day(make_date(
        cast({{ _month_span_part(col, 4) }} as integer),
        list_position({{ _month_prefixes() }}, {{ _month_span_part(col, 3) }}),
        1
    ))
{%- endmacro %}
