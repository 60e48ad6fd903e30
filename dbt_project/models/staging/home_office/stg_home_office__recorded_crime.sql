-- Home Office recorded crime rows, parsed: financial periods, the reporting body the
-- force name belongs to, the platform's offence group for the code in that period,
-- and the count as a number (NULL, with the marker kept, when suppressed).
-- One row per raw row; nothing is filtered out here.

with

recorded_crime as (
    select * from {{ source('home_office', 'home_office__recorded_crime') }}
),

force_name_variants as (
    select * from {{ ref('force_name_variants') }}
),

offence_codes as (
    select * from {{ ref('offence_codes') }}
),

parsed as (
    select
        {{ financial_year_start('financial_year') }} as financial_year_start,
        try_cast(trim(financial_quarter) as integer) as financial_quarter,
        trim(force_name) as force_name,
        {{ normalise_name('force_name') }} as force_name_key,
        upper(trim(offence_code)) as offence_code,
        trim(offence_description) as offence_description,
        {{ count_value('number_of_offences') }} as offences,
        {{ count_marker('number_of_offences') }} as suppression_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from recorded_crime
),

-- with_periods, reporting_bodies, with_reporting_body, with_offence_group:
-- shared with the other Home Office staging model (macros/staging/home_office_quarter_ctes.sql).
{{ home_office_quarter_ctes('parsed') }},

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
        offences,
        suppression_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from with_offence_group
)

select * from final
