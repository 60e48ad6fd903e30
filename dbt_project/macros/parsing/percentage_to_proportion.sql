{#
    A column that always holds percentages (0-100, such as the Crime Survey's
    `percentage`) as a proportion 0-1, rounded to 8 decimal places (dividing by
    100 in binary floating point leaves noise: 72.4 / 100 is
    0.7240000000000001).
#}
{% macro percentage_to_proportion(col) -%}
    round({{ decimal_value(col) }} / 100.0, 8)
{%- endmacro %}
