-- The reporting gap: how many adults the Crime Survey for England and Wales says
-- experienced stalking or harassment, against the crimes the police recorded.
-- England and Wales only (the survey publishes no force figures), per survey year
-- (April to March), behaviour, measure and sex.
-- Grain: area x survey_year x behaviour x measure x sex.
--
-- estimated_victims = prevalence x the ONS population of the same age group and
-- sex at the middle of the survey year (mid-year estimate for 30 June of the
-- year the survey year starts in, or the latest earlier one). The survey covers
-- adults aged 16 to 59 in households, so the estimate excludes older adults and
-- people in communal establishments, and carries the survey's sampling error
-- (the prevalence confidence interval is carried through).
--
-- Police recorded crimes are those of the same financial year (stalking: 8Q;
-- harassment: 8L; stalking or harassment: both). They are not published by sex,
-- so they are on the `all_adults` rows only, and they count crimes, not victims.
-- recorded_per_estimated_victim compares them with last-year prevalence only:
-- since-16 prevalence covers a lifetime, not a year.

with

prevalence as (
    select * from {{ ref('stg_csew__prevalence') }}
),

population as (
    select * from {{ ref('stg_ons__population') }}
),

recorded as (
    select * from {{ ref('recorded_crime_12m') }}
),

survey_rows as (
    select
        survey_year,
        survey_year_end,
        behaviour,
        measure,
        age_group,
        sex,
        prevalence,
        prevalence_lower_ci,
        prevalence_upper_ci,
        unweighted_base
    from prevalence
    where behaviour is not null
        and measure is not null
        and sex is not null
),

national_population as (
    select
        mid_year,
        age_group,
        case sex when 'persons' then 'all_adults' else sex end as sex,
        population
    from population
    where area_code = '{{ var("national_area_code") }}'
        and population is not null
),

with_population as (
    select
        survey_rows.*,
        national_population.mid_year as population_mid_year,
        national_population.population
    from survey_rows
    asof left join national_population
        on survey_rows.age_group = national_population.age_group
        and survey_rows.sex = national_population.sex
        and survey_rows.survey_year_end - 1 >= national_population.mid_year
),

-- Police recorded crimes in the financial year the survey year matches.
police_years as (
    select
        cast(extract(year from period_end) as integer) as survey_year_end,
        max(offences) filter (where offence_group = 'stalking') as stalking,
        max(offences) filter (where offence_group = 'harassment') as harassment
    from recorded
    where area_type = 'national'
        and extract(month from period_end) = 3
    group by period_end
),

with_police as (
    select
        with_population.*,
        case
            when with_population.sex = 'all_adults' then
                case with_population.behaviour
                    when 'stalking' then police_years.stalking
                    when 'harassment' then police_years.harassment
                    when 'stalking_or_harassment' then police_years.stalking + police_years.harassment
                end
        end as police_recorded_crimes
    from with_population
    left join police_years
        on with_population.survey_year_end = police_years.survey_year_end
),

final as (
    select
        cast('{{ var("national_area_code") }}' as varchar) as area_code,
        cast('{{ var("national_area_name") }}' as varchar) as area_name,
        cast('national' as varchar) as area_type,
        cast(survey_year as varchar) as survey_year,
        cast(make_date(survey_year_end, 3, 31) as date) as period_end,
        cast(behaviour as varchar) as behaviour,
        cast(measure as varchar) as measure,
        cast(age_group as varchar) as age_group,
        cast(sex as varchar) as sex,
        cast(prevalence as double) as prevalence,
        cast(prevalence_lower_ci as double) as prevalence_lower_ci,
        cast(prevalence_upper_ci as double) as prevalence_upper_ci,
        cast(unweighted_base as bigint) as unweighted_base,
        cast(population as bigint) as population,
        cast(population_mid_year as integer) as population_mid_year,
        cast(round(prevalence * population) as bigint) as estimated_victims,
        cast(round(prevalence_lower_ci * population) as bigint) as estimated_victims_lower,
        cast(round(prevalence_upper_ci * population) as bigint) as estimated_victims_upper,
        cast(police_recorded_crimes as bigint) as police_recorded_crimes,
        cast(
            case
                when measure = 'last_year'
                    then police_recorded_crimes / nullif(prevalence * population, 0)
            end as double
        ) as recorded_per_estimated_victim
    from with_police
)

select * from final
