-- Every territorial police force lies in exactly one CPS Area that exists today,
-- except London's two forces (Metropolitan Police, City of London), which lie in
-- both London Areas; British Transport Police lies in none. Returns each force
-- that breaks the rule with the number of current Areas it is in.

with

forces as (
    select * from {{ ref('forces') }}
),

cps_areas as (
    select * from {{ ref('cps_areas') }}
),

cps_area_forces as (
    select * from {{ ref('cps_area_forces') }}
),

current_links as (
    select cps_area_forces.*
    from cps_area_forces
    inner join cps_areas
        on cps_area_forces.cps_area_code = cps_areas.cps_area_code
    where cps_areas.valid_to is null
),

areas_per_force as (
    select
        forces.area_code,
        count(current_links.cps_area_code) as current_areas
    from forces
    left join current_links
        on forces.area_code = current_links.area_code
    group by forces.area_code
),

expected as (
    select
        area_code,
        current_areas,
        case
            when area_code = 'BTP' then 0
            when area_code in ('E23000001', 'E23000034') then 2
            else 1
        end as expected_areas
    from areas_per_force
)

select * from expected
where current_areas <> expected_areas
