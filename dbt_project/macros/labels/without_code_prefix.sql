{#
    A Ministry of Justice category value without its code_prefix, trimmed; the
    whole value (trimmed) when there is no code; NULL for an empty cell.
#}
{% macro without_code_prefix(col) -%}
    case
        when {{ code_prefix(col) }} is not null
            then trim(regexp_replace(trim({{ col }}), '^\d{1,2}\s*:?\s*', ''))
        else nullif(trim({{ col }}), '')
    end
{%- endmacro %}
