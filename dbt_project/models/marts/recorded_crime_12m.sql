-- Recorded offences in the 12 months ending at each quarter end, per area and
-- offence group: the series behind the trend and ratio charts.
-- Grain: area x period_end x offence_group.
--
-- A window is the four quarters ending 0, 3, 6 and 9 months before period_end,
-- found by date arithmetic rather than by counting rows back, so a missing quarter
-- can never pull an older quarter into the window, and windows run across
-- financial-year boundaries (the 12 months to 31 December = Q4 of one financial
-- year and Q1-Q3 of the next). Only complete windows are kept: all four quarters
-- present with a count. A quarter with a suppressed count makes its windows
-- incomplete rather than short.

with

quarterly as (
    select * from {{ ref('recorded_crime_quarterly') }}
),

-- An offence group can hold more than one code; its quarter has a count only when
-- every code's count is there.
group_quarters as (
    select
        area_code,
        area_name,
        area_type,
        period_end,
        offence_group,
        sum(offences) as offences,
        count(offences) = count(*) as is_complete
    from quarterly
    group by
        area_code,
        area_name,
        area_type,
        period_end,
        offence_group
),

counted_quarters as (
    select * from group_quarters
    where is_complete
),

windows as (
    select
        window_end.area_code,
        window_end.area_name,
        window_end.area_type,
        window_end.period_end,
        window_end.offence_group,
        sum(in_window.offences) as offences,
        count(*) as quarters_in_window
    from counted_quarters as window_end
    inner join counted_quarters as in_window
        on in_window.area_code = window_end.area_code
        and in_window.offence_group = window_end.offence_group
        and in_window.period_end <= window_end.period_end
        and in_window.period_end > window_end.period_end - interval 12 month
    group by
        window_end.area_code,
        window_end.area_name,
        window_end.area_type,
        window_end.period_end,
        window_end.offence_group
),

complete_windows as (
    select * from windows
    where quarters_in_window = 4
),

final as (
    select
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,
        cast(area_type as varchar) as area_type,
        cast(period_end as date) as period_end,
        cast(offence_group as varchar) as offence_group,
        cast(offences as bigint) as offences,
        cast(quarters_in_window as integer) as quarters_in_window
    from complete_windows
)

select * from final
