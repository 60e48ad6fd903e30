{#
    Financial-period arithmetic. The police and the CPS count in financial years
    (1 April to 31 March) and financial quarters: Q1 April-June, Q2 July-September,
    Q3 October-December, Q4 January-March of the following calendar year.
#}

{#
    The start year of a financial year label written `2016/17`, `2016-17` or
    `2016_17` (INTEGER). NULL for any other text, which the staging tests catch.
#}
{% macro financial_year_start(col) -%}
    cast(nullif(regexp_extract(trim({{ col }}), '^(\d{4})[/_-]\d{2}$', 1), '') as integer)
{%- endmacro %}

{#
    The canonical financial year label, `2016/17`, for a start year.
#}
{% macro financial_year_label(start_year) -%}
    ({{ start_year }}::varchar || '/' || lpad((({{ start_year }} + 1) % 100)::varchar, 2, '0'))
{%- endmacro %}

{#
    First day of a financial quarter (DATE): Q1 2016/17 starts on 2016-04-01.
#}
{% macro financial_quarter_start(start_year, quarter) -%}
    cast(make_date({{ start_year }}, 4, 1) + to_months(3 * ({{ quarter }} - 1)) as date)
{%- endmacro %}

{#
    Last day of a financial quarter (DATE): Q1 -> 30 June and Q2 -> 30 September
    and Q3 -> 31 December of the start year, Q4 -> 31 March of the next calendar
    year. Computed as the day before the next quarter starts, so no month length
    is written down anywhere.
#}
{% macro financial_quarter_end(start_year, quarter) -%}
    cast(make_date({{ start_year }}, 4, 1) + to_months(3 * {{ quarter }}) - interval 1 day as date)
{%- endmacro %}
