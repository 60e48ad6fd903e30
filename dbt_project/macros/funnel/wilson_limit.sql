{#
    One end of the Wilson score interval for a proportion p out of n at the
    normal deviate z (funnel_limits):
        (2 n p + z^2 + sign z sqrt(z^2 + 4 n p (1 - p))) / (2 (n + z^2))
    Held within 0-1 (rounding could stray a hair outside at p = 0 or 1), always
    containing p, and tending to p +/- z sqrt(p(1-p)/n) as n grows.
#}
{% macro wilson_limit(p, n, z, sign) -%}
    {{ 'greatest(0.0, ' if sign < 0 else 'least(1.0, ' }}(
        2 * {{ n }} * {{ p }} + {{ z }} * {{ z }}
        {{ '-' if sign < 0 else '+' }} {{ z }} * sqrt({{ z }} * {{ z }} + 4 * {{ n }} * {{ p }} * (1 - {{ p }}))
    ) / (2 * ({{ n }} + {{ z }} * {{ z }})))
{%- endmacro %}
