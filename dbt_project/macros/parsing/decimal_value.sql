{#
    A decimal number as published (a rate, a percentage or a confidence limit
    written `72.4`, `72.4%`, `0.724`, `1,234.5`) as DOUBLE, with any `%` sign,
    thousands separators and spaces removed; NULL for a suppression marker or
    unreadable text. `72.4%` gives 72.4: it does not rescale.
#}
{% macro decimal_value(col) -%}
    case
        when {{ is_suppression_marker(col) }} then null
        else try_cast(
            regexp_replace(trim({{ col }}), '[,%\s]', '', 'g') as double
        )
    end
{%- endmacro %}
