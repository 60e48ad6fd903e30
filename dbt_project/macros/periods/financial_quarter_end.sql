{#
    The last day (DATE) of a financial quarter: Q1 -> 30 June, Q2 -> 30
    September, Q3 -> 31 December of the start year, Q4 -> 31 March of the next
    calendar year. Computed as the day before the next quarter starts, so no
    month length is written down.
#}
{% macro financial_quarter_end(start_year, quarter) -%}
    cast(make_date({{ start_year }}, 4, 1) + to_months(3 * {{ quarter }}) - interval 1 day as date)
{%- endmacro %}
