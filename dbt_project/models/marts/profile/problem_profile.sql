-- One row per police force and 12-month period with every figure a problem
-- profile needs, each beside England and Wales and the force's peer group
-- (force_peer_groups seed: hsinsight's own grouping of forces, not HMICFRS's most
-- similar groups): recorded stalking and harassment, change on a year
-- earlier, rates per 1,000, the harassment-to-stalking ratio and whether it is an
-- outlier, the outcome mix, and court prosecutions and convictions.
-- Grain: force x period_end.
--
-- For every measure M (macros/profile/profile_measures.sql) there are three columns:
-- M (the force), M_england_and_wales and M_peer_group. A count's comparators are the
-- England and Wales and the group totals; a ratio's are England and Wales's ratio
-- and the group's own ratio of totals (its numerators over its denominators, from
-- the group's forces that have both), so a large force weighs more than a small
-- one. A group total is NULL when any of its forces has no figure. British
-- Transport Police and City of London, in no group, have NULL group columns.
-- Court figures are for court_calendar_year (int_force_profile_measures).
-- M_msg, after every other column, is a deprecated alias of M_peer_group, kept for
-- one release.

{%- set measures = profile_measures() %}

with

measures as (
    select * from {{ ref('int_force_profile_measures') }}
),

practice as (
    select * from {{ ref('recording_practice') }}
),

recorded as (
    select * from {{ ref('recorded_crime_12m') }}
),

forces as (
    select * from {{ ref('forces') }}
),

peer_groups as (
    select * from {{ ref('force_peer_groups') }}
),

force_periods as (
    select distinct
        recorded.area_code,
        forces.area_name,
        recorded.period_end
    from recorded
    inner join forces
        on recorded.area_code = forces.area_code
),

force_measures as (
    select
        measures.*,
        peer_groups.peer_group
    from measures
    left join peer_groups
        on measures.area_code = peer_groups.area_code
    where measures.area_type = 'force'
),

national_measures as (
    select
        period_end,
        measure,
        value
    from measures
    where area_type = 'national'
),

group_members as (
    select
        peer_groups.peer_group,
        force_periods.period_end,
        count(*) as forces_in_group
    from peer_groups
    inner join force_periods
        on peer_groups.area_code = force_periods.area_code
    group by
        peer_groups.peer_group,
        force_periods.period_end
),

group_measures as (
    select
        force_measures.peer_group,
        force_measures.period_end,
        force_measures.measure,
        case
            when any_value(force_measures.kind) = 'count' then
                case
                    when count(force_measures.numerator) = any_value(group_members.forces_in_group)
                        then sum(force_measures.numerator)
                end
            else
                sum(force_measures.numerator) filter (where force_measures.denominator is not null)
                / nullif(sum(force_measures.denominator) filter (where force_measures.numerator is not null), 0)
        end as value
    from force_measures
    inner join group_members
        on force_measures.peer_group = group_members.peer_group
        and force_measures.period_end = group_members.period_end
    group by
        force_measures.peer_group,
        force_measures.period_end,
        force_measures.measure
),

compared as (
    select
        force_measures.area_code,
        force_measures.period_end,
        force_measures.measure,
        force_measures.value,
        national_measures.value as national_value,
        group_measures.value as group_value
    from force_measures
    left join national_measures
        on force_measures.period_end = national_measures.period_end
        and force_measures.measure = national_measures.measure
    left join group_measures
        on force_measures.peer_group = group_measures.peer_group
        and force_measures.period_end = group_measures.period_end
        and force_measures.measure = group_measures.measure
),

pivoted as (
    select
        area_code,
        period_end,
        {%- for measure, kind in measures %}
        max(value) filter (where measure = '{{ measure }}') as {{ measure }},
        max(national_value) filter (where measure = '{{ measure }}') as {{ measure }}_england_and_wales,
        max(group_value) filter (where measure = '{{ measure }}') as {{ measure }}_peer_group
        {{- "," if not loop.last }}
        {%- endfor %}
    from compared
    group by
        area_code,
        period_end
),

population as (
    select
        area_code,
        period_end,
        any_value(population) as population,
        any_value(population_mid_year) as population_mid_year
    from recorded
    group by
        area_code,
        period_end
),

final as (
    select
        cast(force_periods.area_code as varchar) as area_code,
        cast(force_periods.area_name as varchar) as area_name,
        cast('force' as varchar) as area_type,
        cast(force_periods.period_end as date) as period_end,
        cast(peer_groups.peer_group as varchar) as peer_group,
        cast(peer_groups.peer_group_name as varchar) as peer_group_name,
        cast(population.population as bigint) as population,
        cast(population.population_mid_year as integer) as population_mid_year,
        {{ court_calendar_year('force_periods.period_end') }} as court_calendar_year,
        {%- for measure, kind in measures %}
        {%- set type = 'bigint' if kind == 'count' else 'double' %}
        cast(pivoted.{{ measure }} as {{ type }}) as {{ measure }},
        cast(pivoted.{{ measure }}_england_and_wales as {{ type }}) as {{ measure }}_england_and_wales,
        cast(pivoted.{{ measure }}_peer_group as {{ type }}) as {{ measure }}_peer_group,
        {%- endfor %}
        cast(practice.robust_z_score as double) as harassment_to_stalking_robust_z_score,
        cast(practice.outlier_flag as boolean) as harassment_to_stalking_outlier_flag,
        cast(practice.outlier_direction as varchar) as harassment_to_stalking_outlier_direction,
        -- Deprecated: the old names of the *_peer_group columns, kept for one release.
        {%- for measure, kind in measures %}
        {%- set type = 'bigint' if kind == 'count' else 'double' %}
        cast(pivoted.{{ measure }}_peer_group as {{ type }}) as {{ measure }}_msg
        {{- "," if not loop.last }}
        {%- endfor %}
    from force_periods
    left join pivoted
        on force_periods.area_code = pivoted.area_code
        and force_periods.period_end = pivoted.period_end
    left join peer_groups
        on force_periods.area_code = peer_groups.area_code
    left join population
        on force_periods.area_code = population.area_code
        and force_periods.period_end = population.period_end
    left join practice
        on force_periods.area_code = practice.area_code
        and force_periods.period_end = practice.period_end
)

select * from final
