{#
    Fails for every row whose column is outside 0-1: shares and rates the marts
    store as proportions, not percentages. NULL passes (pair with not_null where a
    value is required).

    columns:
      - name: share
        data_tests: [is_proportion]
#}
{% test is_proportion(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} < 0
    or {{ column_name }} > 1

{% endtest %}
