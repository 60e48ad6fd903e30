-- Home Office crime outcomes rows, parsed: financial periods, the reporting body
-- the force name belongs to, the platform's offence group for the code in that
-- period, the outcome type with its group (an empty type is 0, not yet assigned
-- an outcome) and both counts as numbers (NULL, with the marker kept, when the
-- file has a marker such as `N/A - data not provided`). Negative counts are
-- published corrections and are kept. One row per raw row; nothing is filtered
-- out here.

with

outcomes as (
    select * from {{ source('home_office', 'home_office__outcomes') }}
),

force_name_variants as (
    select * from {{ ref('force_name_variants') }}
),

offence_codes as (
    select * from {{ ref('offence_codes') }}
),

outcome_types as (
    select * from {{ ref('outcome_types') }}
),

parsed as (
    select
        {{ financial_year_start('financial_year') }} as financial_year_start,
        try_cast(trim(financial_quarter) as integer) as financial_quarter,
        trim(force_name) as force_name,
        {{ normalise_name('force_name') }} as force_name_key,
        upper(trim(offence_code)) as offence_code,
        trim(offence_description) as offence_description,
        coalesce(lower(trim(offence_code_expired)) = 'x', false) as is_offence_code_expired,
        -- An empty outcome type is an offence not yet assigned an outcome: type 0.
        case
            when nullif(trim(outcome_type), '') is null then 0
            else try_cast(trim(outcome_type) as integer)
        end as outcome_type,
        nullif(trim(outcome_description), '') as outcome_description,
        nullif(trim(replace(replace(outcome_group, '–', '-'), '—', '-')), '') as outcome_group_label,
        {{ count_value('outcomes_recorded_basis') }} as outcomes_recorded_basis,
        {{ count_marker('outcomes_recorded_basis') }} as outcomes_recorded_basis_marker,
        {{ count_value('outcomes_closed_basis') }} as outcomes_closed_basis,
        {{ count_marker('outcomes_closed_basis') }} as outcomes_closed_basis_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from outcomes
),

-- with_periods, reporting_bodies, with_reporting_body, with_offence_group:
-- shared with the other Home Office staging model (macros/staging/home_office_quarter_ctes.sql).
{{ home_office_quarter_ctes('parsed') }},

with_outcome_group as (
    select
        with_offence_group.*,
        outcome_types.outcome_group_key,
        outcome_types.is_assigned_outcome
    from with_offence_group
    left join outcome_types
        on with_offence_group.outcome_type = outcome_types.outcome_type
),

final as (
    select
        financial_year,
        financial_year_start,
        financial_quarter,
        period_start,
        period_end,
        force_name,
        area_code,
        reporting_body_type,
        offence_code,
        offence_description,
        offence_group,
        is_offence_code_expired,
        outcome_type,
        outcome_description,
        outcome_group_label,
        outcome_group_key,
        is_assigned_outcome,
        outcomes_recorded_basis,
        outcomes_recorded_basis_marker,
        outcomes_closed_basis,
        outcomes_closed_basis_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from with_outcome_group
)

select * from final
