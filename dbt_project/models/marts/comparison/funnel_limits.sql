-- Control limits for comparing forces (funnel plots, Spiegelhalter, "Funnel plots
-- for comparing institutional performance", Statistics in Medicine 2005): for each
-- force, period and measure, the force's value against England and Wales's (the
-- target), with the limits within which a force of its volume would fall by chance
-- alone 95% and 99.8% of the time, and a flag saying where it falls.
-- Grain: area x period_end x measure x offence_group x category.
--
-- Measures (value = numerator / denominator x multiplier):
--   rate_per_1000   recorded offences per 1,000 residents (recorded_crime_12m):
--                   Poisson on the count, residents the exposure; every offence group.
--   outcome_share   an outcome group's share of the outcomes assigned (outcomes_12m):
--                   binomial; category = the outcome group.
--   stalking_share  stalking / (stalking + harassment) (recording_practice): the
--                   harassment-to-stalking ratio as a share, binomial; the ratio is
--                   (1 - share) / share, so a low share is a high ratio.
--   conviction_ratio defendants convicted / prosecuted in a calendar year
--                   (court_outcomes), binomial; category = the PHA 1997 section;
--                   period_end = 31 December.
--
-- Limits: the quantiles of the force's count if it had the target's value, at its
-- volume (n = the denominator, p = target / multiplier): for a share, Binomial(n, p);
-- for a rate, Poisson(n p). Exact quantiles would need the binomial and Poisson
-- distribution functions, which DuckDB lacks; they are approximated by the
-- Cornish-Fisher expansion to the skewness term (macros/funnel/quantile_count.sql):
--     count limit = n p + z sd + c (z^2 - 1) / 6,   c = 1 - 2p (binomial), 1 (Poisson)
-- floored at 0, as a value: count limit / n x multiplier; the lower limit is 0 (the
-- upper, for a share, n) while the chance of no events (of all n) is at least the
-- tail's, since no count can then fall beyond it, exactly. It tends to the normal limit
-- target +/- z SE as the volume grows and keeps the skew of a small count: with 0.4
-- crimes expected, 3 recorded (7 times the target) stay within the 99.8% limit, as
-- the exact Poisson test says (p = 0.008). Wilson score limits around the target were
-- tried and left: at about one expected event their lower limit is above zero, so a
-- force with none would be flagged low on no evidence.
-- Each force's own 95% interval (ci_lower_95, ci_upper_95): the Wilson score interval
-- for a share; for a rate, the exact Poisson limits (chi-square quantiles) by the
-- Wilson-Hilferty approximation (Byar's formula, macros/funnel/byar_lower.sql).
--
-- Over-dispersion (the paper's additive random-effects model): among the territorial
-- forces with a figure (British Transport Police, with no residents and another mix
-- of crime, is left out of the estimate but gets adjusted limits), z = (value -
-- target) / s with s the target's standard error at the force's volume; the z-scores
-- are winsorised at their 10th and 90th percentiles; phi = mean z^2 over the k forces.
-- When k x phi > k - 1, tau^2 = (k phi - (k - 1)) / (sum w - sum w^2 / sum w) with w =
-- 1 / s^2; otherwise tau^2 = 0 and the *_adjusted columns repeat the unadjusted ones.
-- The paper's adjusted limits are target +/- z sqrt(s^2 + tau^2): the normal limits
-- with the standard error widened by sqrt(1 + tau^2 / s^2). Here that factor widens
-- each limit's distance from the target, so an adjusted limit is never narrower than
-- the plain one (at a small count the normal limit would be: a force with 3 offences
-- against 0.4 expected must not be flagged on the normal approximation) and equals
-- the paper's at large volume.

{%- set z95 = 1.959963984540054 %}
{%- set z998 = 3.090232306167813 %}

with

recorded as (
    select * from {{ ref('recorded_crime_12m') }}
),

outcomes as (
    select * from {{ ref('outcomes_12m') }}
),

practice as (
    select * from {{ ref('recording_practice') }}
),

court as (
    select * from {{ ref('court_outcomes') }}
),

forces as (
    select * from {{ ref('forces') }}
),

measure_rows as (
    select
        area_code,
        area_name,
        area_type,
        period_end,
        'rate_per_1000' as measure,
        offence_group,
        'all' as category,
        'poisson' as distribution,
        1000 as multiplier,
        offences as numerator,
        population as denominator
    from recorded
    where population is not null

    union all

    select
        area_code,
        area_name,
        area_type,
        period_end,
        'outcome_share',
        offence_group,
        outcome_group,
        'binomial',
        1,
        outcomes,
        assigned_outcomes
    from outcomes

    union all

    select
        area_code,
        area_name,
        area_type,
        period_end,
        'stalking_share',
        'stalking',
        'all',
        'binomial',
        1,
        stalking_offences,
        stalking_offences + harassment_offences
    from practice
    where stalking_offences is not null
        and harassment_offences is not null

    union all

    select
        area_code,
        area_name,
        area_type,
        make_date(calendar_year, 12, 31),
        'conviction_ratio',
        coalesce(offence_group, 'all'),
        offence_section,
        'binomial',
        1,
        convicted,
        prosecuted
    from court
    where convicted is not null
        and prosecuted is not null
),

-- A figure only where it is one: a positive denominator and, for a share, a
-- numerator between 0 and the denominator.
valid_rows as (
    select
        *,
        denominator > 0
            and numerator >= 0
            and (distribution = 'poisson' or numerator <= denominator) as is_valid
    from measure_rows
),

targets as (
    select
        period_end,
        measure,
        offence_group,
        category,
        numerator / denominator as target_p
    from valid_rows
    where area_type = 'national'
        and is_valid
),

force_rows as (
    select
        valid_rows.*,
        coalesce(forces.has_resident_population, false) as has_resident_population,
        case when valid_rows.is_valid then valid_rows.numerator / valid_rows.denominator end as observed_p,
        targets.target_p,
        case
            when not valid_rows.is_valid or targets.target_p is null then null
            when valid_rows.distribution = 'poisson' then sqrt(targets.target_p / valid_rows.denominator)
            else sqrt(targets.target_p * (1 - targets.target_p) / valid_rows.denominator)
        end as standard_error
    from valid_rows
    left join forces
        on valid_rows.area_code = forces.area_code
    left join targets
        on valid_rows.period_end = targets.period_end
        and valid_rows.measure = targets.measure
        and valid_rows.offence_group = targets.offence_group
        and valid_rows.category = targets.category
    where valid_rows.area_type = 'force'
),

-- Limits on the per-unit scale (a proportion, or offences per resident).
limits as (
    select
        *,
        {%- for level, z, tail in [('95', z95, 0.025), ('998', z998, 0.001)] %}
        case
            when target_p is null or not is_valid then null
            -- No count can be significantly low while none at all is that likely.
            when distribution = 'binomial' and target_p < 1
                and denominator * ln(1 - target_p) >= ln({{ tail }}) then 0.0
            when distribution = 'poisson' and denominator * target_p <= -ln({{ tail }}) then 0.0
            when distribution = 'binomial'
                then {{ quantile_count(
                    'denominator * target_p', 'denominator * target_p * (1 - target_p)', '1 - 2 * target_p', -z
                ) }} / denominator
            else {{ quantile_count('denominator * target_p', 'denominator * target_p', '1', -z) }} / denominator
        end as lower_{{ level }}_p,
        case
            when target_p is null or not is_valid then null
            -- Nor significantly high, for a share, while all of them is that likely.
            when distribution = 'binomial' and target_p > 0
                and denominator * ln(target_p) >= ln({{ tail }}) then 1.0
            when distribution = 'binomial'
                then least(1.0, {{ quantile_count(
                    'denominator * target_p', 'denominator * target_p * (1 - target_p)', '1 - 2 * target_p', z
                ) }} / denominator)
            else {{ quantile_count('denominator * target_p', 'denominator * target_p', '1', z) }} / denominator
        end as upper_{{ level }}_p,
        {%- endfor %}
        case
            when not is_valid then null
            when distribution = 'binomial' then {{ wilson_limit('observed_p', 'denominator', z95, -1) }}
            else {{ byar_lower('numerator', z95) }} / denominator
        end as ci_lower_95_p,
        case
            when not is_valid then null
            when distribution = 'binomial' then {{ wilson_limit('observed_p', 'denominator', z95, 1) }}
            else {{ byar_upper('numerator', z95) }} / denominator
        end as ci_upper_95_p,
        (observed_p - target_p) / nullif(standard_error, 0) as z_score
    from force_rows
),

-- The over-dispersion estimate, per period and measure, from the territorial forces.
reference_z as (
    select
        period_end,
        measure,
        offence_group,
        category,
        z_score,
        standard_error
    from limits
    where has_resident_population
        and z_score is not null
),

reference_bounds as (
    select
        period_end,
        measure,
        offence_group,
        category,
        quantile_cont(z_score, 0.1) as z_p10,
        quantile_cont(z_score, 0.9) as z_p90
    from reference_z
    group by all
),

dispersion as (
    select
        reference_z.period_end,
        reference_z.measure,
        reference_z.offence_group,
        reference_z.category,
        count(*) as forces_in_estimate,
        avg(power(least(greatest(reference_z.z_score, reference_bounds.z_p10), reference_bounds.z_p90), 2))
            as phi,
        sum(1 / power(reference_z.standard_error, 2)) as sum_w,
        sum(1 / power(reference_z.standard_error, 4)) as sum_w2
    from reference_z
    inner join reference_bounds
        on reference_z.period_end = reference_bounds.period_end
        and reference_z.measure = reference_bounds.measure
        and reference_z.offence_group = reference_bounds.offence_group
        and reference_z.category = reference_bounds.category
    group by all
),

with_tau as (
    select
        *,
        case
            when forces_in_estimate > 1 and forces_in_estimate * phi > forces_in_estimate - 1
                then (forces_in_estimate * phi - (forces_in_estimate - 1)) / (sum_w - sum_w2 / sum_w)
            else 0
        end as tau_squared
    from dispersion
),

adjusted as (
    select
        limits.*,
        with_tau.forces_in_estimate,
        with_tau.phi,
        coalesce(with_tau.tau_squared, 0) as tau_squared,
        {%- for level in ['95', '998'] %}
        case
            when limits.standard_error is null then null
            else greatest(
                0.0,
                limits.target_p
                    - (limits.target_p - limits.lower_{{ level }}_p)
                    * sqrt(1 + coalesce(with_tau.tau_squared / nullif(power(limits.standard_error, 2), 0), 0))
            )
        end as lower_{{ level }}_adjusted_p,
        case
            when limits.standard_error is null then null
            when limits.distribution = 'binomial'
                then least(
                    1.0,
                    limits.target_p
                        + (limits.upper_{{ level }}_p - limits.target_p)
                        * sqrt(1 + coalesce(with_tau.tau_squared / nullif(power(limits.standard_error, 2), 0), 0))
                )
            else limits.target_p
                + (limits.upper_{{ level }}_p - limits.target_p)
                * sqrt(1 + coalesce(with_tau.tau_squared / nullif(power(limits.standard_error, 2), 0), 0))
        end as upper_{{ level }}_adjusted_p{{ ',' if not loop.last }}
        {%- endfor %}
    from limits
    left join with_tau
        on limits.period_end = with_tau.period_end
        and limits.measure = with_tau.measure
        and limits.offence_group = with_tau.offence_group
        and limits.category = with_tau.category
),

scaled as (
    select
        cast(area_code as varchar) as area_code,
        cast(area_name as varchar) as area_name,
        cast(period_end as date) as period_end,
        cast(measure as varchar) as measure,
        cast(offence_group as varchar) as offence_group,
        cast(category as varchar) as category,
        cast(distribution as varchar) as distribution,
        cast(multiplier as integer) as multiplier,
        cast(numerator as bigint) as numerator,
        cast(denominator as bigint) as denominator,
        cast(observed_p * multiplier as double) as value,
        cast(ci_lower_95_p * multiplier as double) as ci_lower_95,
        cast(ci_upper_95_p * multiplier as double) as ci_upper_95,
        cast(target_p * multiplier as double) as target,
        cast(lower_95_p * multiplier as double) as lower_95,
        cast(upper_95_p * multiplier as double) as upper_95,
        cast(lower_998_p * multiplier as double) as lower_998,
        cast(upper_998_p * multiplier as double) as upper_998,
        cast(z_score as double) as z_score,
        cast(forces_in_estimate as integer) as forces_in_estimate,
        cast(phi as double) as dispersion_ratio,
        cast(tau_squared * multiplier * multiplier as double) as tau_squared,
        cast(coalesce(tau_squared > 0, false) as boolean) as is_overdispersed,
        cast(lower_95_adjusted_p * multiplier as double) as lower_95_adjusted,
        cast(upper_95_adjusted_p * multiplier as double) as upper_95_adjusted,
        cast(lower_998_adjusted_p * multiplier as double) as lower_998_adjusted,
        cast(upper_998_adjusted_p * multiplier as double) as upper_998_adjusted
    from adjusted
),

final as (
    select
        area_code,
        area_name,
        period_end,
        measure,
        offence_group,
        category,
        distribution,
        multiplier,
        numerator,
        denominator,
        value,
        ci_lower_95,
        ci_upper_95,
        target,
        lower_95,
        upper_95,
        lower_998,
        upper_998,
        cast({{ funnel_flag('value', 'lower_95', 'upper_95', 'lower_998', 'upper_998') }} as varchar) as flag,
        z_score,
        forces_in_estimate,
        dispersion_ratio,
        tau_squared,
        is_overdispersed,
        lower_95_adjusted,
        upper_95_adjusted,
        lower_998_adjusted,
        upper_998_adjusted,
        cast(
            {{ funnel_flag(
                'value', 'lower_95_adjusted', 'upper_95_adjusted', 'lower_998_adjusted', 'upper_998_adjusted'
            ) }} as varchar
        ) as flag_adjusted
    from scaled
)

select * from final
