{#
    The first day (DATE) of a financial quarter: Q1 April-June, Q2
    July-September, Q3 October-December, Q4 January-March of the following
    calendar year. Q1 2016/17 starts on 2016-04-01.
#}
{% macro financial_quarter_start(start_year, quarter) -%}
    cast(make_date({{ start_year }}, 4, 1) + to_months(3 * ({{ quarter }} - 1)) as date)
{%- endmacro %}
