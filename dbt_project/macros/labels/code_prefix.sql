{#
    The one- or two-digit Ministry of Justice category code before a colon (`01:
    10-11` -> `01`), or before a space when a word follows (`01 Indictable only`
    -> `01`); NULL when there is none (`25+`, `10-11`, `Not known`).
#}
{% macro code_prefix(col) -%}
    nullif(regexp_extract(trim({{ col }}), '^(\d{1,2})(?:\s*:\s*\S|\s+[A-Za-z(])', 1), '')
{%- endmacro %}
