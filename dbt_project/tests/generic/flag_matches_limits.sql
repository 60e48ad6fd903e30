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
