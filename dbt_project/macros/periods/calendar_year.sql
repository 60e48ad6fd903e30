{#
    A four-digit calendar year (`2016`: the Ministry of Justice and the ONS
    mid-year estimates) as INTEGER; NULL for anything else.
#}
{% macro calendar_year(col) -%}
    try_cast(nullif(regexp_extract(trim({{ col }}), '^(\d{4})$', 1), '') as integer)
{%- endmacro %}
