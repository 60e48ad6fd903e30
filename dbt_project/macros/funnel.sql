{#
    Control limits and intervals for funnel plots (models/marts/funnel_limits.sql).

    wilson_limit(p, n, z, sign): one end of the Wilson score interval for a
    proportion p out of n, at the normal deviate z; sign -1 the lower end, +1 the
    upper:
        (2 n p + z^2 + sign z sqrt(z^2 + 4 n p (1 - p))) / (2 (n + z^2))
    Held within 0-1 (rounding could stray a hair outside at p = 0 or 1), always
    containing p, and tending to p +/- z sqrt(p(1-p)/n) as
    n grows.
#}
{% macro wilson_limit(p, n, z, sign) -%}
    {{ 'greatest(0.0, ' if sign < 0 else 'least(1.0, ' }}(
        2 * {{ n }} * {{ p }} + {{ z }} * {{ z }}
        {{ '-' if sign < 0 else '+' }} {{ z }} * sqrt({{ z }} * {{ z }} + 4 * {{ n }} * {{ p }} * (1 - {{ p }}))
    ) / (2 * ({{ n }} + {{ z }} * {{ z }})))
{%- endmacro %}

{#
    byar_lower(count, z) and byar_upper(count, z): the exact Poisson limits for a
    count (chi2(alpha/2, 2 count) / 2 and chi2(1 - alpha/2, 2 count + 2) / 2) by the
    Wilson-Hilferty approximation to the chi-square quantile (Byar's formula):
        lower = c (1 - 1/(9c) - z/(3 sqrt c))^3          (0 when c = 0)
        upper = (c + 1) (1 - 1/(9(c + 1)) + z/(3 sqrt(c + 1)))^3
#}
{% macro byar_lower(count, z) -%}
    case
        when {{ count }} <= 0 then 0.0
        else {{ count }} * power(
            greatest(0.0, 1 - 1 / (9.0 * {{ count }}) - {{ z }} / (3 * sqrt({{ count }}))), 3
        )
    end
{%- endmacro %}

{% macro byar_upper(count, z) -%}
    ({{ count }} + 1) * power(
        1 - 1 / (9.0 * ({{ count }} + 1)) + {{ z }} / (3 * sqrt({{ count }} + 1)), 3
    )
{%- endmacro %}

{#
    quantile_count(mean, variance, third_over_variance, z): a quantile of a count
    whose distribution has this mean and variance, by the Cornish-Fisher expansion to
    its skewness term:
        mean + z sqrt(variance) + third_over_variance (z^2 - 1) / 6
    (a lower quantile, z < 0, never above the mean and an upper one never below it:
    at a mean near 0 the skewness term alone would carry both above it), where third_over_variance is the third central moment over the variance (1 for a
    Poisson count, 1 - 2p for a binomial one). Continuous, never below 0; tends to the
    normal quantile mean + z sd as the count grows. Against the exact quantiles it
    sits half a count above Spiegelhalter's interpolated limit (a mid-p limit): within
    about a count of scipy's at every volume, and at a small expected count it never
    flags a count whose exact one-sided p-value is several times the level.
#}
{% macro quantile_count(mean, variance, third_over_variance, z) -%}
    greatest(
        0.0,
        {{ 'least' if z < 0 else 'greatest' }}(
            {{ mean }},
            {{ mean }} + ({{ z }}) * sqrt({{ variance }}) + ({{ third_over_variance }}) * ({{ z * z - 1 }}) / 6.0
        )
    )
{%- endmacro %}

{#
    funnel_flag(value, lower_95, upper_95, lower_998, upper_998): where a value falls
    against its control limits: above_998, above_95, below_998, below_95 or within;
    NULL when the value or the limits are missing.
#}
{% macro funnel_flag(value, lower_95, upper_95, lower_998, upper_998) -%}
    case
        when {{ value }} is null or {{ lower_95 }} is null or {{ upper_95 }} is null then null
        when {{ value }} > {{ upper_998 }} then 'above_998'
        when {{ value }} > {{ upper_95 }} then 'above_95'
        when {{ value }} < {{ lower_998 }} then 'below_998'
        when {{ value }} < {{ lower_95 }} then 'below_95'
        else 'within'
    end
{%- endmacro %}

{#
    Generic test: fails for every row where the listed columns, read left to right,
    decrease by more than a rounding error (rows with a NULL among them are skipped).

    data_tests:
      - columns_in_order:
          arguments:
            columns: [lower_998, lower_95, target, upper_95, upper_998]
#}
{% test columns_in_order(model, columns) %}

select *
from {{ model }}
where
    {%- for column in columns %}
    {{ column }} is not null and
    {%- endfor %}
    (
        {%- for index in range(columns | length - 1) %}
        {{ columns[index] }} > {{ columns[index + 1] }} + 1e-9 * greatest(1.0, abs({{ columns[index + 1] }}))
        {{- ' or' if not loop.last }}
        {%- endfor %}
    )

{% endtest %}

{#
    Generic test: fails for every row whose value column is not numerator /
    denominator x multiplier (to a relative 1e-9), or is NULL where the
    denominator is positive and the numerator usable.

    data_tests:
      - is_scaled_ratio:
          arguments:
            numerator: numerator
            denominator: denominator
            multiplier: multiplier
#}
{% test is_scaled_ratio(model, column_name, numerator, denominator, multiplier) %}

select *
from {{ model }}
where {{ denominator }} > 0
    and {{ numerator }} >= 0
    and (
        {{ column_name }} is null
        or abs({{ column_name }} - {{ numerator }} * {{ multiplier }} / {{ denominator }})
            > 1e-9 * greatest(1.0, abs({{ column_name }}))
    )

{% endtest %}

{#
    Generic test: fails for every row whose flag column disagrees with its value and
    limits (funnel_flag above), with the limits' columns named by their suffix:
    lower_95<suffix>, upper_95<suffix>, lower_998<suffix>, upper_998<suffix>.

    columns:
      - name: flag_adjusted
        data_tests:
          - flag_matches_limits:
              arguments:
                suffix: _adjusted
#}
{% test flag_matches_limits(model, column_name, value='value', suffix='') %}

select *
from {{ model }}
where {{ column_name }} is distinct from (
    {{ funnel_flag(
        value,
        'lower_95' ~ suffix,
        'upper_95' ~ suffix,
        'lower_998' ~ suffix,
        'upper_998' ~ suffix
    ) }}
)

{% endtest %}
