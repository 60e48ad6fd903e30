{#
    The lower exact Poisson limit for a count (chi2(alpha/2, 2 count) / 2) by
    the Wilson-Hilferty approximation to the chi-square quantile (Byar's
    formula): c (1 - 1/(9c) - z/(3 sqrt c))^3, and 0 when c = 0.
#}
{% macro byar_lower(count, z) -%}
    case
        when {{ count }} <= 0 then 0.0
        else {{ count }} * power(
            greatest(0.0, 1 - 1 / (9.0 * {{ count }}) - {{ z }} / (3 * sqrt({{ count }}))), 3
        )
    end
{%- endmacro %}
