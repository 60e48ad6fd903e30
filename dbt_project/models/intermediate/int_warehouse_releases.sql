-- The release of each source the warehouse holds, per mart the published figures
-- are compared in: the last day of the latest period its data cover, and a label
-- in the publishers' form (`year ending December 2016`). The reconciliation
-- compares it with the release a published figure came from: the same release
-- must reproduce the figure exactly; a later one may have revised it.
-- Grain: mart.
--
--   recorded_crime_12m   Home Office police recorded crime: latest quarter end
--   outcomes_12m         Home Office crime outcomes: latest quarter end
--   court_outcomes       MoJ Outcomes by Offence: latest calendar year end (or
--                        quarter end, in files with quarters)
--   restraining_orders   MoJ restraining orders: latest calendar year end
--   attrition            CPS VAWG data: latest financial year end
--   prevalence_gap       Crime Survey for England and Wales: latest survey year end
--
-- A source with no rows has no row here.

with

recorded_crime as (
    select * from {{ ref('stg_home_office__recorded_crime') }}
),

outcomes as (
    select * from {{ ref('stg_home_office__outcomes') }}
),

court_outcomes as (
    select * from {{ ref('stg_moj__court_outcomes') }}
),

restraining_orders as (
    select * from {{ ref('stg_moj__restraining_orders') }}
),

cps as (
    select * from {{ ref('stg_cps__vawg') }}
),

csew as (
    select * from {{ ref('stg_csew__prevalence') }}
),

period_ends as (
    select
        'recorded_crime_12m' as mart,
        'Home Office police recorded crime' as source,
        max(period_end) as release_period_end
    from recorded_crime
    union all
    select 'outcomes_12m', 'Home Office crime outcomes', max(period_end)
    from outcomes
    union all
    select
        'court_outcomes',
        'Ministry of Justice CJS statistics, Outcomes by Offence',
        max(
            case
                when quarter is null then make_date(cast(year as integer), 12, 31)
                else last_day(make_date(cast(year as integer), 3 * cast(quarter as integer), 1))
            end
        )
    from court_outcomes
    union all
    select
        'restraining_orders',
        'Ministry of Justice CJS statistics, restraining orders',
        max(make_date(cast(year as integer), 12, 31))
    from restraining_orders
    union all
    select 'attrition', 'CPS violence against women and girls data', max(period_end)
    from cps
    union all
    select 'prevalence_gap', 'Crime Survey for England and Wales', max(period_end)
    from csew
),

final as (
    select
        cast(mart as varchar) as mart,
        cast(source as varchar) as source,
        cast(release_period_end as date) as release_period_end,
        cast('year ending ' || strftime(release_period_end, '%B %Y') as varchar) as release
    from period_ends
    where release_period_end is not null
)

select * from final
