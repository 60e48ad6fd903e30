{#
    The first day (DATE) of the first month of a span of months as the ONS
    Appendix tables head their columns: `Apr 2002 to Mar 2003` (a financial
    year) gives 2002-04-01, `Oct 2024 to Sep 2025` (a rolling 12 months)
    2024-10-01. Line breaks and doubled spaces are allowed; months are full or
    three-letter names, any case. NULL for text of any other shape.
#}
{% macro month_span_start(col) -%}
    make_date(
        cast({{ _month_span_part(col, 2) }} as integer),
        list_position({{ _month_prefixes() }}, {{ _month_span_part(col, 1) }}),
        1
    )
{%- endmacro %}
