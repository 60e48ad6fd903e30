-- Defendants prosecuted, convicted and sentenced for each Protection from
-- Harassment Act 1997 offence the platform follows, per police force area (where
-- the court sits) and England and Wales, and calendar year: the conviction ratio,
-- sentences by disposal, custody of 12 months or more (the MAPPA threshold), and
-- the restraining orders issued on conviction and on acquittal for the offence
-- where the Ministry of Justice publishes them by offence.
-- Grain: area x calendar_year x offence_section.
--
-- Counting (Outcomes by Offence, principal offence basis): each row is a number of
-- defendants with one final outcome. Prosecuted = every row; convicted = rows
-- whose Convicted column says Convicted; sentenced = rows whose Sentenced column
-- says Sentenced. The conviction ratio is convicted / prosecuted in the same year,
-- as the MoJ publishes it: not a rate for a cohort (someone convicted this year
-- can have been prosecuted last year). A file with quarters is summed over them.
-- England and Wales is every row, `Not known` police force area included.

{%- set disposals = {
    'Immediate custody': 'immediate_custody',
    'Suspended sentence': 'suspended_sentence',
    'Community sentence': 'community_sentence',
    'Fine': 'fine',
    'Conditional discharge': 'conditional_discharge',
    'Absolute discharge': 'absolute_discharge',
    'Otherwise dealt with': 'otherwise_dealt_with',
} %}
{#- Custodial sentence length bands of 12 months or more: `04: 12 months` to
    `09: More than 5 years`. #}
{%- set twelve_months_or_more = ['04', '05', '06', '07', '08', '09'] %}

with

court as (
    select * from {{ ref('stg_moj__court_outcomes') }}
),

restraining_orders as (
    select * from {{ ref('restraining_orders') }}
),

forces as (
    select * from {{ ref('forces') }}
),

platform_rows as (
    select
        area_code,
        year as calendar_year,
        offence_section,
        platform_offence_group as offence_group,
        is_convicted,
        is_sentenced,
        disposal,
        custodial_sentence_length_code,
        defendants
    from court
    where offence_section is not null
),

{%- set measures %}
        {{ complete_sum('defendants') }} as prosecuted,
        {{ complete_sum('case when is_convicted then defendants else 0 end') }} as convicted,
        {{ complete_sum('case when is_sentenced then defendants else 0 end') }} as sentenced,
        {%- for label, column in disposals.items() %}
        {{ complete_sum("case when is_sentenced and disposal = '" ~ label ~ "' then defendants else 0 end") }}
            as {{ column }},
        {%- endfor %}
        {{ complete_sum(
            "case when is_sentenced and disposal = 'Immediate custody' and custodial_sentence_length_code in ('"
            ~ twelve_months_or_more | join("', '") ~ "') then defendants else 0 end"
        ) }} as custody_12_months_or_more
{%- endset %}

force_rows as (
    select
        platform_rows.area_code,
        forces.area_name,
        'force' as area_type,
        platform_rows.calendar_year,
        platform_rows.offence_section,
        any_value(platform_rows.offence_group) as offence_group,
        {{ measures }}
    from platform_rows
    inner join forces
        on platform_rows.area_code = forces.area_code
    group by
        platform_rows.area_code,
        forces.area_name,
        platform_rows.calendar_year,
        platform_rows.offence_section
),

national_rows as (
    {{ national_rows(
        'platform_rows',
        ['calendar_year', 'offence_section'],
        'any_value(offence_group) as offence_group,' ~ measures
    ) }}
),

all_areas as (
    select * from force_rows
    union all
    select * from national_rows
),

with_orders as (
    select
        all_areas.*,
        restraining_orders.orders_on_conviction as restraining_orders_on_conviction,
        restraining_orders.orders_on_acquittal as restraining_orders_on_acquittal
    from all_areas
    left join restraining_orders
        on all_areas.area_code = restraining_orders.area_code
        and all_areas.calendar_year = restraining_orders.calendar_year
        and all_areas.offence_section = restraining_orders.offence_scope
),

final as (
    select
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,
        cast(area_type as varchar) as area_type,
        cast(calendar_year as integer) as calendar_year,
        cast(offence_section as varchar) as offence_section,
        cast(offence_group as varchar) as offence_group,
        cast(prosecuted as bigint) as prosecuted,
        cast(convicted as bigint) as convicted,
        cast(convicted / nullif(prosecuted, 0) as double) as conviction_ratio,
        cast(sentenced as bigint) as sentenced,
        {%- for column in disposals.values() %}
        cast({{ column }} as bigint) as {{ column }},
        {%- endfor %}
        cast(custody_12_months_or_more as bigint) as custody_12_months_or_more,
        cast(restraining_orders_on_conviction as bigint) as restraining_orders_on_conviction,
        cast(restraining_orders_on_acquittal as bigint) as restraining_orders_on_acquittal
    from with_orders
)

select * from final
