-- Restraining orders issued on conviction and on acquittal, per police force area
-- (where the court sits) and England and Wales, calendar year and offence scope:
-- `all_offences` (every offence an order was made for) or a Protection from
-- Harassment Act section, where the table breaks the orders down by offence.
-- Grain: area x calendar_year x offence_scope.
--
-- England and Wales is the sum of every row, `Not known` police force area
-- included, so it matches the national figure the Ministry of Justice publishes;
-- a suppressed cell anywhere leaves the national figure NULL.

with

orders as (
    select * from {{ ref('stg_moj__restraining_orders') }}
),

forces as (
    select * from {{ ref('forces') }}
),

scoped as (
    select
        area_code,
        reporting_body_type,
        year as calendar_year,
        case
            when is_all_offences then 'all_offences'
            else offence_section
        end as offence_scope,
        orders_on_conviction,
        orders_on_acquittal
    from orders
    where is_all_offences or offence_section is not null
),

force_rows as (
    select
        scoped.area_code,
        forces.area_name,
        'force' as area_type,
        scoped.calendar_year,
        scoped.offence_scope,
        {{ complete_sum('scoped.orders_on_conviction') }} as orders_on_conviction,
        {{ complete_sum('scoped.orders_on_acquittal') }} as orders_on_acquittal
    from scoped
    inner join forces
        on scoped.area_code = forces.area_code
    group by
        scoped.area_code,
        forces.area_name,
        scoped.calendar_year,
        scoped.offence_scope
),

national_rows as (
    {{ national_rows(
        'scoped',
        ['calendar_year', 'offence_scope'],
        complete_sum('orders_on_conviction') ~ ' as orders_on_conviction, '
            ~ complete_sum('orders_on_acquittal') ~ ' as orders_on_acquittal'
    ) }}
),

all_areas as (
    select * from force_rows
    union all
    select * from national_rows
),

final as (
    select
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,
        cast(area_type as varchar) as area_type,
        cast(calendar_year as integer) as calendar_year,
        cast(offence_scope as varchar) as offence_scope,
        cast(orders_on_conviction as bigint) as orders_on_conviction,
        cast(orders_on_acquittal as bigint) as orders_on_acquittal
    from all_areas
)

select * from final
