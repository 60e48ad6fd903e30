-- Home Office rolling 12-month totals by police force area (rec-crime-pfa.csv),
-- one row per raw row, parsed: the 12 months as dates, the reporting body the
-- force name belongs to (force_name_variants seed, matched with
-- `normalise_name`), the platform's name for the offence category, and the total
-- as a number. The file writes its quarter ends as dd/mm/yyyy, and one release
-- wrote the quarter ending 31 December 2017 as 30/12/2017: every date is taken to
-- the last day of its month, since the table only has quarter ends. The release a
-- row belongs to is named after the latest 12 months in its file. Nothing is
-- filtered out: fraud bodies stay here with no area code.

with

pfa_rolling as (
    select * from {{ source('home_office', 'home_office__pfa_rolling') }}
),

force_name_variants as (
    select * from {{ ref('force_name_variants') }}
),

parsed as (
    select
        trim(twelve_months_ending) as twelve_months_ending_as_written,
        cast(coalesce(
            try_strptime(trim(twelve_months_ending), '%d/%m/%Y'),
            try_strptime(trim(twelve_months_ending), '%Y-%m-%d')
        ) as date) as date_as_written,
        trim(force_name) as force_name,
        {{ normalise_name('force_name') }} as force_name_key,
        nullif(trim(region), '') as region,
        trim(offence) as offence,
        {{ count_value('rolling_total') }} as rolling_total,
        {{ count_marker('rolling_total') }} as rolling_total_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from pfa_rolling
),

with_periods as (
    select
        *,
        last_day(date_as_written) as period_end,
        cast(date_trunc('month', date_as_written) - interval 11 month as date) as period_start
    from parsed
),

with_release as (
    select
        *,
        'year ending ' || strftime(max(period_end) over (partition by _sha256), '%B %Y') as release_label
    from with_periods
),

reporting_bodies as (
    {{ reporting_bodies_lookup('force_name_variants', 'force_name_key') }}
),

with_reporting_body as (
    select
        with_release.*,
        reporting_bodies.area_code,
        reporting_bodies.reporting_body_type,
        -- the Home Office category that is the ONS subgroup (8L + 8M + 8Q + 8R + 8U)
        case
            when {{ normalise_name('with_release.offence') }} = 'stalking and harassment'
                then 'stalking_and_harassment'
        end as offence_group
    from with_release
    left join reporting_bodies
        on with_release.force_name_key = reporting_bodies.force_name_key
),

final as (
    select
        release_label,
        twelve_months_ending_as_written,
        period_start,
        period_end,
        force_name,
        area_code,
        reporting_body_type,
        region,
        offence,
        offence_group,
        rolling_total,
        rolling_total_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from with_reporting_body
)

select * from final
