{#
    The upper exact Poisson limit for a count (chi2(1 - alpha/2, 2 count + 2) /
    2) by Byar's formula: (c + 1) (1 - 1/(9(c + 1)) + z/(3 sqrt(c + 1)))^3.
#}
{% macro byar_upper(count, z) -%}
    ({{ count }} + 1) * power(
        1 - 1 / (9.0 * ({{ count }} + 1)) + {{ z }} / (3 * sqrt({{ count }} + 1)), 3
    )
{%- endmacro %}
