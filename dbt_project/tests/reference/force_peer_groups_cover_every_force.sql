-- Every police force with a comparable resident population has a peer group;
-- City of London and British Transport Police have none; a peer group has one
-- name. Returns the offending force or group.

with

forces as (
    select * from {{ ref('forces') }}
),

force_peer_groups as (
    select * from {{ ref('force_peer_groups') }}
),

coverage_problems as (
    select
        forces.area_code as item,
        case
            when force_peer_groups.area_code is null then 'force without a peer group'
            else 'City of London and British Transport Police have no peers'
        end as problem
    from forces
    left join force_peer_groups
        on forces.area_code = force_peer_groups.area_code
    where (force_peer_groups.area_code is null) <> (forces.area_code in ('E23000034', 'BTP'))
),

naming_problems as (
    select
        peer_group as item,
        'peer group with more than one name' as problem
    from force_peer_groups
    group by peer_group
    having count(distinct peer_group_name) > 1
)

select * from coverage_problems
union all
select * from naming_problems
