-- ONS Appendix Table A5a: police recorded crime in England and Wales by offence
-- code, one row per raw row (an offence row x a period column), parsed: the
-- period as dates (financial years and the two rolling 12-month columns), the
-- platform's offence group for the code in that period (offence_codes seed,
-- within the code's validity dates), `stalking_and_harassment` for the subgroup
-- subtotal row (it has no code), and the count as a number (NULL, with the
-- marker kept, for `[x]` and `[u]`).

with

appendix as (
    select * from {{ source('ons', 'ons__appendix_recorded_crime') }}
),

offence_codes as (
    select * from {{ ref('offence_codes') }}
),

parsed as (
    select
        trim(release_label) as release_label_as_written,
        {{ twelve_months_end('release_label') }} as release_end,
        nullif(upper(trim(offence_code)), '') as offence_code,
        -- `Stalking and harassment [note 22, 27]` -> `Stalking and harassment`
        trim(regexp_replace(
            regexp_replace(offence_category, '\[\s*notes?\b[^\]]*\]', '', 'gi'), '\s+', ' ', 'g'
        )) as offence_category,
        regexp_replace(trim(period_label), '\s+', ' ', 'g') as period_label,
        {{ month_span_start('period_label') }} as period_start,
        {{ month_span_end('period_label') }} as period_end,
        {{ count_value('offences') }} as offences,
        {{ count_marker('offences') }} as offences_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from appendix
),

with_flags as (
    select
        *,
        'year ending ' || strftime(release_end, '%B %Y') as release_label,
        month(period_start) = 4
            and month(period_end) = 3
            and year(period_end) = year(period_start) + 1 as is_financial_year,
        -- the subgroup subtotal: no code, and the subgroup's name
        offence_code is null
            and lower(offence_category) = 'stalking and harassment' as is_subgroup_total
    from parsed
),

with_offence_group as (
    select
        with_flags.*,
        case
            when with_flags.is_subgroup_total then 'stalking_and_harassment'
            else offence_codes.offence_group
        end as offence_group
    from with_flags
    left join offence_codes
        on with_flags.offence_code = offence_codes.offence_code
        and {{ within_code_validity('with_flags.period_start', 'with_flags.period_end', 'offence_codes') }}
),

final as (
    select
        release_label,
        release_end,
        period_label,
        period_start,
        period_end,
        is_financial_year,
        offence_code,
        offence_category,
        is_subgroup_total,
        offence_group,
        offences,
        offences_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from with_offence_group
)

select * from final
