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
