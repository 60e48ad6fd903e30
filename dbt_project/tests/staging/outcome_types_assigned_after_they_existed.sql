{{ config(severity='warn') }}

-- An outcome counted in a quarter before its type existed (type 21 before January
-- 2016, type 22 before April 2019) is suspicious: type 22 rows have been reported
-- in files from 2015/16 on, which looks like back-coding. A warning, so the rows
-- are looked at rather than the build stopped. Returns each force, quarter and
-- type with a non-zero count before the type's valid_from.

with

outcomes as (
    select * from {{ ref('stg_home_office__outcomes') }}
),

outcome_types as (
    select * from {{ ref('outcome_types') }}
)

select
    outcomes.financial_year,
    outcomes.financial_quarter,
    outcomes.force_name,
    outcomes.outcome_type,
    outcome_types.valid_from,
    sum(coalesce(outcomes.outcomes_closed_basis, 0)) as outcomes_closed_basis,
    sum(coalesce(outcomes.outcomes_recorded_basis, 0)) as outcomes_recorded_basis
from outcomes
inner join outcome_types
    on outcomes.outcome_type = outcome_types.outcome_type
where outcomes.period_end < outcome_types.valid_from
group by
    outcomes.financial_year,
    outcomes.financial_quarter,
    outcomes.force_name,
    outcomes.outcome_type,
    outcome_types.valid_from
having sum(coalesce(outcomes.outcomes_closed_basis, 0)) <> 0
    or sum(coalesce(outcomes.outcomes_recorded_basis, 0)) <> 0
