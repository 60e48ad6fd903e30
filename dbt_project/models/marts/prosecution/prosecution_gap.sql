-- Recorded stalking against stalking prosecutions and convictions, per CPS Area
-- (London North and London South together from 2017-18) and England and Wales,
-- and financial year: the inspection's finding that recorded stalking rose while
-- prosecutions stayed flat, for any year. Grain: area x financial_year.
--
-- share_prosecuted = CPS stalking prosecutions / police recorded stalking crimes
-- in the same financial year. The two count different things (offences reaching
-- a first hearing against crimes recorded) and a prosecution can follow a crime
-- recorded in an earlier year, so it is an indicator of the gap, not the chance
-- that a recorded crime is prosecuted. Before April 2014 stalking had no police
-- code of its own, so recorded_stalking is NULL for 2012/13 and 2013/14.

with

attrition as (
    select * from {{ ref('attrition') }}
),

stalking as (
    select * from attrition
    where offence_group = 'stalking'
),

final as (
    select
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,
        cast(area_type as varchar) as area_type,
        cast(financial_year as varchar) as financial_year,
        cast(period_end as date) as period_end,
        cast(recorded as bigint) as recorded_stalking,
        cast(prosecuted as bigint) as stalking_prosecutions,
        cast(convicted as bigint) as stalking_convictions,
        cast(prosecuted_per_recorded as double) as share_prosecuted,
        cast(convicted_per_prosecuted as double) as conviction_rate
    from stalking
)

select * from final
