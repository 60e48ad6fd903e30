-- Ministry of Justice restraining orders issued on conviction and on acquittal
-- per police force area and calendar year, parsed: the year as a number, the
-- force (where the court sits), the offence label with its Protection from
-- Harassment Act section where it is one of the platform's (an empty offence is
-- all offences) and both counts as numbers.

with

restraining_orders as (
    select * from {{ source('moj', 'moj__restraining_orders') }}
),

force_name_variants as (
    select * from {{ ref('force_name_variants') }}
),

court_offences as (
    select * from {{ ref('court_offences') }}
),

parsed as (
    select
        {{ calendar_year('year') }} as year,
        {{ without_code_prefix('police_force_area') }} as police_force_area,
        {{ normalise_name(without_code_prefix('police_force_area')) }} as police_force_area_key,
        {{ offence_code_prefix('offence') }} as offence_code,
        {{ without_offence_code_prefix('offence') }} as offence,
        {{ count_value('orders_on_conviction') }} as orders_on_conviction,
        {{ count_marker('orders_on_conviction') }} as orders_on_conviction_marker,
        {{ count_value('orders_on_acquittal') }} as orders_on_acquittal,
        {{ count_marker('orders_on_acquittal') }} as orders_on_acquittal_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from restraining_orders
),

-- An empty offence, or one written `All offences`, is the total over offences.
with_offence_key as (
    select
        *,
        offence is null or {{ normalise_label('offence') }} = 'all offences' as is_all_offences,
        {{ normalise_label('offence') }} as offence_key
    from parsed
),

reporting_bodies as (
    {{ reporting_bodies_lookup('force_name_variants', 'police_force_area_key') }}
),

offence_sections as (
    select
        {{ normalise_label('offence_label') }} as offence_key,
        offence_section,
        offence_group as platform_offence_group
    from court_offences
),

joined as (
    select
        with_offence_key.*,
        reporting_bodies.area_code,
        reporting_bodies.reporting_body_type,
        offence_sections.offence_section,
        offence_sections.platform_offence_group
    from with_offence_key
    left join reporting_bodies
        on with_offence_key.police_force_area_key = reporting_bodies.police_force_area_key
    left join offence_sections
        on with_offence_key.offence_key = offence_sections.offence_key
),

final as (
    select
        year,
        police_force_area,
        area_code,
        reporting_body_type,
        offence_code,
        offence,
        is_all_offences,
        offence_section,
        platform_offence_group,
        orders_on_conviction,
        orders_on_conviction_marker,
        orders_on_acquittal,
        orders_on_acquittal_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from joined
)

select * from final
