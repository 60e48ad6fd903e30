-- Crime Survey for England and Wales prevalence of stalking and harassment,
-- parsed: the survey year (April to March) in either form it is written, the
-- behaviour, measure and sex as keys, and the percentages as proportions 0-1
-- (NULL, with the marker kept, when suppressed).

with

prevalence as (
    select * from {{ source('csew', 'csew__prevalence') }}
),

parsed as (
    select
        trim(survey_year) as survey_year_as_written,
        {{ survey_year_end('survey_year') }} as survey_year_end,
        case {{ normalise_name('behaviour') }}
            when 'stalking' then 'stalking'
            when 'harassment' then 'harassment'
            when 'stalking or harassment' then 'stalking_or_harassment'
            when 'stalking and/or harassment' then 'stalking_or_harassment'
        end as behaviour,
        case {{ normalise_name('measure') }}
            when 'in the last year' then 'last_year'
            when 'last year' then 'last_year'
            when 'since the age of 16' then 'since_age_16'
            when 'since age 16' then 'since_age_16'
        end as measure,
        -- `16-59`, `16 to 59` and `16 – 59` are one age group
        regexp_replace(
            {{ normalise_label('age_group') }}, '\s*(?:-|\bto\b)\s*', '-', 'g'
        ) as age_group,
        case {{ normalise_name('sex') }}
            when 'men' then 'men'
            when 'male' then 'men'
            when 'women' then 'women'
            when 'female' then 'women'
            when 'all adults' then 'all_adults'
            when 'all' then 'all_adults'
        end as sex,
        {{ percentage_to_proportion('percentage') }} as prevalence,
        {{ count_marker('percentage') }} as prevalence_marker,
        {{ percentage_to_proportion('lower_ci') }} as prevalence_lower_ci,
        {{ percentage_to_proportion('upper_ci') }} as prevalence_upper_ci,
        {{ count_value('unweighted_base') }} as unweighted_base,
        {{ count_marker('unweighted_base') }} as unweighted_base_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from prevalence
),

with_periods as (
    select
        *,
        {{ survey_year_label('survey_year_end') }} as survey_year,
        make_date(survey_year_end - 1, 4, 1) as period_start,
        make_date(survey_year_end, 3, 31) as period_end
    from parsed
),

final as (
    select
        survey_year,
        survey_year_end,
        period_start,
        period_end,
        behaviour,
        measure,
        age_group,
        sex,
        prevalence,
        prevalence_marker,
        prevalence_lower_ci,
        prevalence_upper_ci,
        unweighted_base,
        unweighted_base_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from with_periods
)

select * from final
