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
