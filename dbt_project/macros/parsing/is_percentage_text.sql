{#
    TRUE when the text is plainly a percentage: it carries a `%` sign or its
    number is greater than 1 (a proportion cannot be). FALSE otherwise,
    including for markers and NULL.
#}
{% macro is_percentage_text(col) -%}
    coalesce(
        {{ decimal_value(col) }} is not null
        and (contains({{ col }}, '%') or {{ decimal_value(col) }} > 1),
        false
    )
{%- endmacro %}
