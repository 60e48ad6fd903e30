{#
    Fails for every row whose column is zero or below: ratios of two counts that
    are only computed when both are above zero. NULL passes.

    columns:
      - name: harassment_to_stalking_ratio
        data_tests: [is_positive]
#}
{% test is_positive(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} <= 0

{% endtest %}
