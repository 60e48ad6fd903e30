{#
    The start year (INTEGER) of a financial year label written `2016/17`,
    `2016-17` or `2016_17`. NULL for any other text, which the staging tests
    catch. The police and the CPS count in financial years, 1 April to 31 March.
#}
{% macro financial_year_start(col) -%}
    cast(nullif(regexp_extract(trim({{ col }}), '^(\d{4})[/_-]\d{2}$', 1), '') as integer)
{%- endmacro %}
