{#
    An offence label after its Home Office offence code (offence_code_prefix),
    trimmed; the whole label when there is none.
#}
{% macro without_offence_code_prefix(col) -%}
    case
        when {{ offence_code_prefix(col) }} is not null
            then trim(regexp_replace(trim({{ col }}), '{{ _offence_code_pattern() }}', ''))
        else nullif(trim({{ col }}), '')
    end
{%- endmacro %}
