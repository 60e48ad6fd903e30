{#
    A calendar quarter 1-4 (INTEGER) written `1`, `Q1`, `Quarter 1`, `2016 Q1`
    or with a Ministry of Justice code prefix (`01: Q1`); NULL for anything
    else, including an empty cell (a file without quarters).
#}
{% macro calendar_quarter(col) -%}
    try_cast(nullif(regexp_extract(
        lower({{ without_code_prefix(col) }}),
        '^(?:\d{4}\s*)?(?:q|quarter)?\s*([1-4])$',
        1
    ), '') as integer)
{%- endmacro %}
