{#
    Fails for every combination of the given columns that occurs more than once
    (NULLs compare equal, as in GROUP BY). Returns the duplicated combination and
    how many rows share it.

    data_tests:
      - unique_combination_of_columns:
          arguments:
            combination_of_columns: [area_code, period_end, offence_code]
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

{%- set columns = combination_of_columns | join(', ') %}

with

grouped as (
    select
        {{ columns }},
        count(*) as rows_with_this_key
    from {{ model }}
    group by {{ columns }}
)

select * from grouped
where rows_with_this_key > 1

{% endtest %}
