-- How many harassment crimes each area records for every stalking crime, over the
-- 12 months ending at each quarter end, against England and Wales and the force's
-- peer group (force_peer_groups seed: hsinsight's own grouping of forces, not
-- HMICFRS's most similar groups), with outliers flagged: the inspection's Figure 3,
-- kept over time. Grain: area x period_end. msg_ratio is a deprecated alias of
-- peer_group_ratio, kept for one release.
--
-- Outlier rule (a robust z-score, Iglewicz and Hoaglin's modified z): for each
-- period_end, take the natural log of every territorial force's ratio (British
-- Transport Police is left out of the reference because it has no resident
-- population and records a different mix of crime); z = 0.6745 x (log ratio -
-- median) / MAD, where MAD is the median absolute deviation from the median. A
-- force is an outlier when |z| > 3.5. The log makes a force recording three times
-- as many harassment crimes per stalking crime as the median as unusual as one
-- recording a third as many; the median and MAD are not pulled by the outliers
-- themselves. British Transport Police gets a z-score against the same reference.

with

recorded as (
    select * from {{ ref('recorded_crime_12m') }}
),

forces as (
    select * from {{ ref('forces') }}
),

peer_groups as (
    select * from {{ ref('force_peer_groups') }}
),

area_periods as (
    select
        area_code,
        any_value(area_name) as area_name,
        any_value(area_type) as area_type,
        period_end,
        max(offences) filter (where offence_group = 'harassment') as harassment_offences,
        max(offences) filter (where offence_group = 'stalking') as stalking_offences
    from recorded
    where offence_group in ('harassment', 'stalking')
    group by
        area_code,
        period_end
),

-- A ratio needs both 12-month totals; an area with only one (a suppressed or
-- missing quarter in the other) keeps its row with a NULL ratio, and where stalking
-- is zero the ratio is not defined and stays NULL too.
with_ratio as (
    select
        area_periods.*,
        peer_groups.peer_group,
        peer_groups.peer_group_name,
        coalesce(forces.has_resident_population, false) as has_resident_population,
        area_periods.harassment_offences / nullif(area_periods.stalking_offences, 0) as harassment_to_stalking_ratio
    from area_periods
    left join peer_groups
        on area_periods.area_code = peer_groups.area_code
    left join forces
        on area_periods.area_code = forces.area_code
),

national as (
    select
        period_end,
        harassment_to_stalking_ratio as national_ratio
    from with_ratio
    where area_type = 'national'
),

-- The group's own ratio: its harassment crimes over its stalking crimes (the
-- force included), so a large force weighs more than a small one, as in the
-- England and Wales ratio.
peer_group_ratios as (
    select
        peer_group,
        period_end,
        sum(harassment_offences) / nullif(sum(stalking_offences), 0) as peer_group_ratio,
        count(*) as forces_in_group
    from with_ratio
    where peer_group is not null
        and harassment_offences is not null
        and stalking_offences is not null
    group by
        peer_group,
        period_end
),

reference_logs as (
    select
        period_end,
        ln(harassment_to_stalking_ratio) as log_ratio
    from with_ratio
    where area_type = 'force'
        and has_resident_population
        and harassment_to_stalking_ratio > 0
),

reference_medians as (
    select
        period_end,
        median(log_ratio) as median_log_ratio
    from reference_logs
    group by period_end
),

reference_spread as (
    select
        reference_logs.period_end,
        any_value(reference_medians.median_log_ratio) as median_log_ratio,
        median(abs(reference_logs.log_ratio - reference_medians.median_log_ratio)) as mad_log_ratio
    from reference_logs
    inner join reference_medians
        on reference_logs.period_end = reference_medians.period_end
    group by reference_logs.period_end
),

scored as (
    select
        with_ratio.*,
        national.national_ratio,
        peer_group_ratios.peer_group_ratio,
        reference_spread.median_log_ratio,
        case
            when with_ratio.area_type = 'force' and with_ratio.harassment_to_stalking_ratio > 0
                then 0.6745
                    * (ln(with_ratio.harassment_to_stalking_ratio) - reference_spread.median_log_ratio)
                    / nullif(reference_spread.mad_log_ratio, 0)
        end as robust_z_score
    from with_ratio
    left join national
        on with_ratio.period_end = national.period_end
    left join peer_group_ratios
        on with_ratio.peer_group = peer_group_ratios.peer_group
        and with_ratio.period_end = peer_group_ratios.period_end
    left join reference_spread
        on with_ratio.period_end = reference_spread.period_end
),

final as (
    select
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,
        cast(area_type as varchar) as area_type,
        cast(period_end as date) as period_end,
        cast(peer_group as varchar) as peer_group,
        cast(peer_group_name as varchar) as peer_group_name,
        cast(harassment_offences as bigint) as harassment_offences,
        cast(stalking_offences as bigint) as stalking_offences,
        cast(harassment_to_stalking_ratio as double) as harassment_to_stalking_ratio,
        cast(national_ratio as double) as national_ratio,
        cast(peer_group_ratio as double) as peer_group_ratio,
        cast(exp(median_log_ratio) as double) as median_force_ratio,
        cast(robust_z_score as double) as robust_z_score,
        cast(
            case
                when robust_z_score is not null then abs(robust_z_score) > 3.5
            end as boolean
        ) as outlier_flag,
        cast(
            case
                when robust_z_score > 3.5 then 'high'
                when robust_z_score < -3.5 then 'low'
            end as varchar
        ) as outlier_direction,
        -- Deprecated: the old name of peer_group_ratio, kept for one release.
        cast(peer_group_ratio as double) as msg_ratio
    from scored
)

select * from final
