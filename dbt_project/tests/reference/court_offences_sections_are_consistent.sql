-- A court offence section always belongs to the same offence group (s2 and s4
-- harassment, s2A and s4A stalking, breach of a restraining order its own), a
-- label has a group exactly when it has a section, and no two labels are the same
-- once normalised (they would give a court row two sections). Returns the
-- offending labels.

with

court_offences as (
    select * from {{ ref('court_offences') }}
),

expected_groups as (
    select
        offence_label,
        offence_section,
        offence_group,
        case
            when offence_section in ('s2', 's4') then 'harassment'
            when offence_section in ('s2A', 's4A_fear_of_violence', 's4A_serious_alarm_distress') then 'stalking'
            when offence_section = 'breach_of_restraining_order' then 'breach_of_restraining_order'
        end as expected_group
    from court_offences
),

group_problems as (
    select offence_label, 'section and group disagree' as problem
    from expected_groups
    where offence_group is distinct from expected_group
),

duplicate_labels as (
    select
        min(offence_label) as offence_label,
        'label repeated once normalised' as problem
    from court_offences
    group by {{ normalise_label('offence_label') }}
    having count(*) > 1
)

select * from group_problems
union all
select * from duplicate_labels
