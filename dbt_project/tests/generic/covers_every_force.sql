{#
    Fails for every force missing from a period the model has, when the model holds
    that force in any other period: a table users compare forces in must not drop
    a force from one period (a join that loses rows, a quarter the source left out)
    without anyone noticing. A force missing from every period is a coverage
    question for the raw data, which the quality checks ask against the forces
    seed. Applied at the model level: `period_column` names the period and
    `area_column` the force code (default area_code); `force_rows_where` picks the
    force rows (default "area_type = 'force'").

    data_tests:
      - covers_every_force:
          arguments:
            period_column: period_end
#}
{% test covers_every_force(model, period_column, area_column='area_code', force_rows_where="area_type = 'force'") %}

with

present as (
    select distinct
        {{ period_column }} as period,
        {{ area_column }} as area_code
    from {{ model }}
    where {{ force_rows_where }}
),

periods as (
    select distinct period from present
),

forces_in_model as (
    select distinct area_code from present
),

expected as (
    select
        periods.period,
        forces_in_model.area_code
    from periods
    cross join forces_in_model
)

select expected.*
from expected
left join present
    on expected.period = present.period
    and expected.area_code = present.area_code
where present.area_code is null

{% endtest %}
