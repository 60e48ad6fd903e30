-- CPS violence against women and girls data for stalking and harassment,
-- parsed: the financial year, the CPS Area (or the national row) the name
-- belongs to, the offence as a key, the counts as numbers and the conviction
-- rate as a proportion 0-1 however it was written.

with

vawg as (
    select * from {{ source('cps', 'cps__vawg') }}
),

cps_area_name_variants as (
    select * from {{ ref('cps_area_name_variants') }}
),

parsed as (
    select
        {{ financial_year_start('financial_year') }} as financial_year_start,
        trim(cps_area) as cps_area,
        {{ normalise_name('cps_area') }} as cps_area_key,
        case {{ normalise_name('offence') }}
            when 'stalking' then 'stalking'
            when 'harassment' then 'harassment'
            when 'stalking and harassment' then 'stalking_and_harassment'
        end as offence,
        {{ count_value('prosecutions') }} as prosecutions,
        {{ count_marker('prosecutions') }} as prosecutions_marker,
        {{ count_value('convictions') }} as convictions,
        {{ count_marker('convictions') }} as convictions_marker,
        conviction_rate as conviction_rate_as_written,
        {{ count_marker('conviction_rate') }} as conviction_rate_marker,
        -- A file writes its rates one way: when any rate in the file (or sheet)
        -- is plainly a percentage (a % sign, or above 1) they all are.
        bool_or({{ is_percentage_text('conviction_rate') }})
            over (partition by _sha256, _sheet) as file_rates_are_percentages,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from vawg
),

with_periods as (
    select
        *,
        {{ financial_year_label('financial_year_start') }} as financial_year,
        make_date(financial_year_start, 4, 1) as period_start,
        make_date(financial_year_start + 1, 3, 31) as period_end,
        {{ rate_to_proportion('conviction_rate_as_written', 'file_rates_are_percentages') }}
            as conviction_rate
    from parsed
),

-- Spellings that differ only in case or spacing are one name.
cps_area_names as (
    select distinct
        {{ normalise_name('name_variant') }} as cps_area_key,
        cps_area_code
    from cps_area_name_variants
),

with_area as (
    select
        with_periods.*,
        cps_area_names.cps_area_code,
        case
            when cps_area_names.cps_area_code = '{{ var("national_area_code") }}' then 'national'
            when cps_area_names.cps_area_code is not null then 'cps_area'
        end as area_type
    from with_periods
    left join cps_area_names
        on with_periods.cps_area_key = cps_area_names.cps_area_key
),

final as (
    select
        financial_year,
        financial_year_start,
        period_start,
        period_end,
        cps_area,
        cps_area_code,
        area_type,
        offence,
        prosecutions,
        prosecutions_marker,
        convictions,
        convictions_marker,
        conviction_rate,
        conviction_rate_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from with_area
)

select * from final
