{#
    Fails for every group whose shares do not add up to 1 within `tolerance`
    (rounding in the floating-point sum). Groups whose shares are all NULL (no
    outcomes to share out) pass. Returns the group and its sum.

    columns:
      - name: share
        data_tests:
          - shares_sum_to_one:
              arguments:
                group_by: [area_code, period_end, offence_group]
#}
{% test shares_sum_to_one(model, column_name, group_by, tolerance=0.000001) %}

{%- set columns = group_by | join(', ') %}

with

sums as (
    select
        {{ columns }},
        sum({{ column_name }}) as sum_of_shares
    from {{ model }}
    group by {{ columns }}
    having count({{ column_name }}) > 0
)

select * from sums
where abs(sum_of_shares - 1) > {{ tolerance }}

{% endtest %}
