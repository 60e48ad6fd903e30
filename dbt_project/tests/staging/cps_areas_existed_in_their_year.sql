{{ config(severity='warn') }}

-- A CPS figure should name an Area that existed in its financial year: London North
-- and London South only after the London split, the undivided London only before.
-- A warning rather than an error, because the date of the split in the cps_areas
-- seed (2017-04-01) could not be confirmed. Returns the rows whose Area did not
-- exist for the whole year.

with

vawg as (
    select * from {{ ref('stg_cps__vawg') }}
),

cps_areas as (
    select * from {{ ref('cps_areas') }}
)

select
    vawg.financial_year,
    vawg.cps_area,
    vawg.cps_area_code,
    cps_areas.valid_from,
    cps_areas.valid_to,
    vawg._file_name,
    vawg._row_number
from vawg
inner join cps_areas
    on vawg.cps_area_code = cps_areas.cps_area_code
where vawg.period_start < cps_areas.valid_from
    or vawg.period_end > cps_areas.valid_to
