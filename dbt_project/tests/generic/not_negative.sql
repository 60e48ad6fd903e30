{#
    Fails for every row whose column is below zero (NULL passes: pair it with
    not_null where a value is required). Used on totals, where a negative number
    cannot be right even though a single quarter's published correction can be.

    columns:
      - name: offences
        data_tests: [not_negative]
#}
{% test not_negative(model, column_name) %}

select *
from {{ model }}
where {{ column_name }} < 0

{% endtest %}
