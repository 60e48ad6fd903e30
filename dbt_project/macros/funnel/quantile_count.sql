{#
    A quantile of a count whose distribution has this mean and variance, by the
    Cornish-Fisher expansion to its skewness term: mean + z sqrt(variance) +
    third_over_variance (z^2 - 1) / 6. A lower quantile (z < 0) is never above
    the mean and an upper one never below it (at a mean near 0 the skewness term
    alone would carry both above it). Continuous, never below 0; tends to the
    normal quantile mean + z sd as the count grows. Against the exact quantiles
    it sits half a count above Spiegelhalter's interpolated limit (a mid-p
    limit): within about a count of scipy's at every volume, and at a small
    expected count it never flags a count whose exact one-sided p-value is
    several times the level.
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
