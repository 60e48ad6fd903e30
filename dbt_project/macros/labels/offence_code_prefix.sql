{#
    The Home Office offence code at the start of an offence label (`105A Common
    assault` -> `105A`, `8.22 Assault of an emergency worker` -> `8.22`), upper
    case, when a word follows it; NULL when there is none.
#}
{% macro offence_code_prefix(col) -%}
    nullif(upper(regexp_extract(trim({{ col }}), '{{ _offence_code_pattern() }}[A-Za-z(]', 1)), '')
{%- endmacro %}
