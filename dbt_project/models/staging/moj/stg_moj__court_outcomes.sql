-- Ministry of Justice Outcomes by Offence, court outcomes by police force area,
-- parsed: every coded category split into its code and label (`01: Convicted`
-- -> `01`, `Convicted`), the Home Office code split off the offence label, the
-- Protection from Harassment Act section the offence belongs to (court_offences
-- seed), whether the defendant was convicted and sentenced, the disposal, the
-- police force area (where the court sits) and the count of defendants. Labels
-- outside the platform keep a NULL section and stay here; the marts leave them
-- out.

with

court_outcomes as (
    select * from {{ source('moj', 'moj__court_outcomes') }}
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
        {{ calendar_quarter('quarter') }} as quarter,
        {{ without_code_prefix('police_force_area') }} as police_force_area,
        {{ normalise_name(without_code_prefix('police_force_area')) }} as police_force_area_key,
        {{ code_prefix('type_of_defendant') }} as type_of_defendant_code,
        {{ without_code_prefix('type_of_defendant') }} as type_of_defendant,
        {{ code_prefix('sex') }} as sex_code,
        {{ without_code_prefix('sex') }} as sex,
        {{ code_prefix('age_group') }} as age_group_code,
        {{ without_code_prefix('age_group') }} as age_group,
        {{ code_prefix('age_range') }} as age_range_code,
        {{ without_code_prefix('age_range') }} as age_range,
        {{ code_prefix('ethnicity') }} as ethnicity_code,
        {{ without_code_prefix('ethnicity') }} as ethnicity,
        {{ code_prefix('court_type') }} as court_type_code,
        {{ without_code_prefix('court_type') }} as court_type,
        {{ code_prefix('offence_type') }} as offence_type_code,
        {{ without_code_prefix('offence_type') }} as offence_type,
        {{ code_prefix('offence_group') }} as offence_group_code,
        {{ without_code_prefix('offence_group') }} as offence_group,
        {{ offence_code_prefix('offence') }} as offence_code,
        {{ without_offence_code_prefix('offence') }} as offence,
        {{ code_prefix('convicted') }} as convicted_code,
        {{ without_code_prefix('convicted') }} as convicted,
        {{ code_prefix('sentenced') }} as sentenced_code,
        {{ without_code_prefix('sentenced') }} as sentenced,
        {{ code_prefix('outcome') }} as outcome_code,
        {{ without_code_prefix('outcome') }} as outcome,
        {{ code_prefix('detailed_sentence') }} as detailed_sentence_code,
        {{ without_code_prefix('detailed_sentence') }} as detailed_sentence,
        {{ code_prefix('custodial_sentence_length') }} as custodial_sentence_length_code,
        {{ without_code_prefix('custodial_sentence_length') }} as custodial_sentence_length,
        {{ count_value('"count"') }} as defendants,
        {{ count_marker('"count"') }} as defendants_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from court_outcomes
),

-- Convicted/Not convicted and Sentenced/Not sentenced, read from the label. A file
-- without a Sentenced column leaves is_sentenced NULL rather than guessing it from
-- the outcome.
with_flags as (
    select
        *,
        case lower(convicted)
            when 'convicted' then true
            when 'not convicted' then false
        end as is_convicted,
        case lower(sentenced)
            when 'sentenced' then true
            when 'not sentenced' then false
        end as is_sentenced,
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
        with_flags.*,
        reporting_bodies.area_code,
        reporting_bodies.reporting_body_type,
        offence_sections.offence_key is not null as is_known_offence_label,
        offence_sections.offence_section,
        offence_sections.platform_offence_group
    from with_flags
    left join reporting_bodies
        on with_flags.police_force_area_key = reporting_bodies.police_force_area_key
    left join offence_sections
        on with_flags.offence_key = offence_sections.offence_key
),

final as (
    select
        year,
        quarter,
        police_force_area,
        area_code,
        reporting_body_type,
        type_of_defendant_code,
        type_of_defendant,
        sex_code,
        sex,
        age_group_code,
        age_group,
        age_range_code,
        age_range,
        ethnicity_code,
        ethnicity,
        court_type_code,
        court_type,
        offence_type_code,
        offence_type,
        offence_group_code,
        offence_group,
        offence_code,
        offence,
        is_known_offence_label,
        offence_section,
        platform_offence_group,
        convicted_code,
        convicted,
        is_convicted,
        sentenced_code,
        sentenced,
        is_sentenced,
        outcome_code,
        outcome,
        case when is_sentenced then outcome end as disposal,
        detailed_sentence_code,
        detailed_sentence,
        custodial_sentence_length_code,
        custodial_sentence_length,
        defendants,
        defendants_marker,
        _file_name,
        _sha256,
        _sheet,
        _row_number,
        _loaded_at
    from joined
)

select * from final
