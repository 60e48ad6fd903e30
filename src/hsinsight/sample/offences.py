"""A synthetic list of every offence the national-scale data set records (``hsinsight
sample --scale national``).

The Home Office police recorded crime and outcomes tables cover about 150 offence
codes in every offence group, not only harassment and stalking. This list stands in
for them so the national-scale files are the size of the real releases: the groups
and subgroups are the Home Office's, the descriptions are typical of each subgroup,
but the codes (apart from 8L, 8M, 8Q, 8R and 9A, which the small sample already
writes) and the levels are made up. It is not the Home Office's offence
classification and must not be read as one.

Each offence carries what the generator needs: an England and Wales quarterly level
of recorded crimes (around 2016/17) and its yearly growth, an outcome profile (how
investigations of such crimes usually end) and, for the Ministry of Justice court
data, its mode of trial and how many defendants are prosecuted per recorded crime.
"""

from __future__ import annotations

from dataclasses import dataclass

from hsinsight.sample.common import FIRST_YEAR

VAP = "Violence against the person"
SEXUAL = "Sexual offences"
ROBBERY = "Robbery"
THEFT = "Theft offences"
DAMAGE = "Criminal damage and arson"
DRUGS = "Drug offences"
WEAPONS = "Possession of weapons offences"
PUBLIC_ORDER = "Public order offences"
MISCELLANEOUS = "Miscellaneous crimes against society"
STALKING_AND_HARASSMENT = "Stalking and harassment"

#: Modes of trial, as the Ministry of Justice ``Offence Type`` column writes them.
INDICTABLE_ONLY = "01: Indictable only"
EITHER_WAY = "02: Triable either way"
SUMMARY = "03: Summary non-motoring"

#: Ministry of Justice ``Offence Group`` of each Home Office offence group.
COURT_GROUP = {
    VAP: "01: Violence against the person",
    SEXUAL: "02: Sexual offences",
    ROBBERY: "03: Robbery",
    THEFT: "04: Theft offences",
    DAMAGE: "05: Criminal damage and arson",
    DRUGS: "06: Drug offences",
    WEAPONS: "07: Possession of weapons",
    PUBLIC_ORDER: "08: Public order offences",
    MISCELLANEOUS: "09: Miscellaneous crimes against society",
}

#: Outcome profiles: the share of each Home Office outcome type (1-22) among the
#: outcomes assigned to crimes of that kind. Type 19 (National Fraud Intelligence
#: Bureau filed) belongs to fraud, which the police force area table leaves out.
# fmt: off
OUTCOME_PROFILES: dict[str, dict[int, float]] = {
    "violence": {1: .080, 2: .003, 3: .012, 4: .001, 5: .002, 6: .001, 8: .025, 9: .004, 10: .020, 11: .003,
                 12: .002, 13: .003, 14: .070, 15: .200, 16: .330, 17: .020, 18: .150, 20: .006, 21: .020,
                 22: .005},
    "homicide": {1: .700, 5: .030, 9: .010, 10: .010, 11: .005, 12: .010, 13: .005, 15: .120, 16: .020,
                 18: .050, 20: .020, 21: .020},
    "sexual": {1: .050, 2: .004, 3: .006, 4: .001, 5: .004, 8: .006, 9: .010, 10: .020, 11: .020, 12: .004,
               13: .006, 14: .040, 15: .350, 16: .250, 17: .020, 18: .120, 20: .020, 21: .040, 22: .003},
    "acquisitive": {1: .060, 2: .003, 3: .006, 4: .020, 5: .002, 6: .005, 8: .012, 9: .002, 10: .005,
                    11: .003, 12: .001, 13: .001, 14: .030, 15: .060, 16: .050, 17: .002, 18: .720, 20: .002,
                    21: .005, 22: .002},
    "shoplifting": {1: .160, 2: .005, 3: .020, 4: .010, 6: .012, 8: .060, 10: .010, 14: .020, 15: .060,
                    16: .050, 17: .003, 18: .560, 20: .002, 21: .010, 22: .006},
    "damage": {1: .040, 2: .003, 3: .005, 4: .002, 6: .003, 8: .030, 10: .006, 11: .004, 14: .050, 15: .070,
               16: .080, 17: .004, 18: .680, 20: .002, 21: .006, 22: .004},
    "drugs": {1: .300, 2: .020, 3: .080, 4: .002, 6: .040, 7: .250, 8: .150, 9: .010, 10: .040, 11: .004,
              15: .020, 17: .010, 18: .020, 20: .004, 21: .020, 22: .050},
    "weapons": {1: .450, 2: .030, 3: .070, 4: .002, 8: .050, 9: .010, 10: .030, 11: .006, 15: .100, 16: .020,
                17: .005, 18: .150, 20: .005, 21: .030, 22: .020},
    "public_order": {1: .090, 2: .004, 3: .012, 6: .010, 8: .050, 9: .004, 10: .020, 11: .002, 14: .060,
                     15: .170, 16: .300, 17: .020, 18: .200, 20: .004, 21: .020, 22: .008},
    "misc": {1: .350, 2: .005, 3: .050, 4: .005, 5: .005, 6: .010, 8: .030, 9: .020, 10: .050, 11: .005,
             12: .005, 13: .003, 15: .150, 16: .050, 17: .030, 18: .150, 20: .050, 21: .050, 22: .010},
}
# fmt: on

#: Defendants prosecuted in a year per crime recorded in a quarter, by outcome profile
#: (a quarter's crimes x 4 is a year's; roughly the charge share, less attrition).
PROSECUTION_RATIO = {
    "violence": 0.06,
    "homicide": 1.6,
    "sexual": 0.08,
    "acquisitive": 0.12,
    "shoplifting": 0.45,
    "damage": 0.10,
    "drugs": 0.90,
    "weapons": 1.20,
    "public_order": 0.20,
    "misc": 1.00,
}


@dataclass(frozen=True)
class NationalOffence:
    code: str
    description: str
    group: str
    subgroup: str
    level: float  # England and Wales recorded crimes per quarter, around 2016/17
    growth: float  # yearly growth of the level
    profile: str  # key of OUTCOME_PROFILES
    mode_of_trial: str  # INDICTABLE_ONLY, EITHER_WAY or SUMMARY
    first_year: int = FIRST_YEAR  # first financial year (start year) the code is used

    @property
    def court_group(self) -> str:
        return COURT_GROUP[self.group]


def _subgroup(
    group: str,
    subgroup: str,
    base: str,
    profile: str,
    entries: tuple[tuple[str, float, float, str], ...],
) -> tuple[NationalOffence, ...]:
    """Offences of one subgroup, coded ``base`` + A, B ... Z, AA, AB ... in the order listed."""
    return tuple(
        NationalOffence(base + _letters(i), description, group, subgroup, level, growth, profile, mode)
        for i, (description, level, growth, mode) in enumerate(entries)
    )


def _letters(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    return chr(65 + index) if index < 26 else _letters(index // 26 - 1) + chr(65 + index % 26)


IO, EW, SO = INDICTABLE_ONLY, EITHER_WAY, SUMMARY  # indictable only, either way, summary only

# (description, quarterly level, yearly growth, mode of trial)
# fmt: off
OFFENCES: tuple[NationalOffence, ...] = (
    *_subgroup(VAP, "Homicide", "1", "homicide", (
        ("Murder", 140, 1.00, IO), ("Manslaughter", 25, 1.00, IO), ("Infanticide", 2, 1.00, IO),
        ("Corporate manslaughter", 1, 1.00, IO),
    )),
    *_subgroup(VAP, "Death or serious injury caused by unlawful driving", "4", "violence", (
        ("Causing death by dangerous driving", 30, 1.01, IO),
        ("Causing death by careless driving when under the influence of drink or drugs", 6, 1.00, IO),
        ("Causing death by careless or inconsiderate driving", 40, 1.00, EW),
        ("Causing death or serious injury by driving: unlicensed, disqualified or uninsured drivers", 12, 1.02, EW),
        ("Causing serious injury by dangerous driving", 90, 1.03, EW),
        ("Causing death by aggravated vehicle taking", 3, 1.00, EW),
        ("Causing serious injury by careless or inconsiderate driving", 60, 1.04, EW),
    )),
    *_subgroup(VAP, "Violence with injury", "5", "violence", (
        ("Attempted murder", 150, 1.01, IO), ("Intentional destruction of a viable unborn child", 2, 1.00, IO),
        ("Assault with intent to cause serious harm", 6_000, 1.03, IO), ("Endangering life", 600, 1.04, EW),
        ("Assault with injury", 95_000, 1.04, EW),
        ("Racially or religiously aggravated assault with injury", 900, 1.02, EW),
        ("Assault with injury on a constable", 2_500, 1.04, EW),
        ("Assault with injury on an emergency worker (other than a constable)", 400, 1.06, EW),
        ("Causing or allowing serious physical harm to a child or vulnerable person", 80, 1.02, IO),
        ("Administering poison with intent", 60, 1.01, EW),
        ("Wounding or inflicting grievous bodily harm without intent", 4_000, 1.03, EW),
    )),
    *_subgroup(VAP, "Violence without injury", "10", "violence", (
        ("Threats to kill", 5_500, 1.06, EW), ("Conspiracy to murder", 20, 1.00, IO),
        ("Assault without injury", 110_000, 1.05, SO),
        ("Racially or religiously aggravated assault without injury", 2_200, 1.03, EW),
        ("Assault without injury on a constable", 6_000, 1.04, SO),
        ("Assault without injury on an emergency worker (other than a constable)", 1_500, 1.07, SO),
        ("Cruelty to children or young persons", 5_000, 1.06, EW), ("Child abduction", 250, 1.02, EW),
        ("Procuring illegal abortion", 2, 1.00, IO), ("Kidnapping", 1_200, 1.03, IO),
        ("Modern slavery", 1_500, 1.15, IO),
        ("Owning or being in charge of a dog which injures a person", 2_500, 1.05, EW),
        ("Causing or allowing the death of a child or vulnerable person", 10, 1.00, IO),
        ("Threats to cause serious harm with an article", 300, 1.05, EW),
    )),
    *_subgroup(SEXUAL, "Rape", "19", "sexual", (
        ("Rape of a female aged 16 and over", 9_000, 1.07, IO), ("Rape of a female child under 16", 2_000, 1.05, IO),
        ("Rape of a female child under 13", 1_200, 1.04, IO), ("Rape of a male aged 16 and over", 500, 1.06, IO),
        ("Rape of a male child under 16", 350, 1.04, IO), ("Rape of a male child under 13", 450, 1.03, IO),
        ("Attempted rape of a female", 300, 1.03, IO), ("Attempted rape of a male", 40, 1.02, IO),
    )),
    *_subgroup(SEXUAL, "Other sexual offences", "20", "sexual", (
        ("Sexual assault on a female aged 13 and over", 8_000, 1.06, EW),
        ("Sexual assault on a male aged 13 and over", 1_000, 1.05, EW),
        ("Sexual assault on a female child under 13", 1_000, 1.03, IO),
        ("Sexual assault on a male child under 13", 600, 1.03, IO),
        ("Sexual activity involving a child under 13", 1_000, 1.04, IO),
        ("Sexual activity involving a child under 16", 2_500, 1.04, EW),
        ("Causing sexual activity without consent", 300, 1.04, EW),
        ("Sexual activity with a person with a mental disorder", 100, 1.02, EW),
        ("Abuse of position of trust of a sexual nature", 150, 1.03, EW), ("Sexual grooming", 1_000, 1.08, EW),
        ("Exposure and voyeurism", 3_500, 1.05, EW), ("Incest or familial sexual offences", 300, 1.02, EW),
        ("Abuse of children through sexual exploitation", 200, 1.03, EW),
        ("Trafficking for sexual exploitation", 30, 1.02, IO), ("Other miscellaneous sexual offences", 200, 1.02, EW),
        ("Sharing or threatening to share intimate images", 400, 1.12, EW),
    )),
    *_subgroup(ROBBERY, "Robbery of business property", "34", "acquisitive", (
        ("Robbery of business property", 1_800, 1.03, IO), ("Attempted robbery of business property", 200, 1.02, IO),
    )),
    *_subgroup(ROBBERY, "Robbery of personal property", "35", "acquisitive", (
        ("Robbery of personal property", 17_000, 1.04, IO), ("Attempted robbery of personal property", 1_500, 1.03, IO),
    )),
    *_subgroup(THEFT, "Burglary", "28", "acquisitive", (
        ("Residential burglary of a home", 45_000, 0.97, EW),
        ("Attempted residential burglary of a home", 8_000, 0.97, EW),
        ("Residential burglary of an unconnected building", 10_000, 0.96, EW),
        ("Non-residential burglary", 20_000, 0.96, EW), ("Attempted non-residential burglary", 3_000, 0.96, EW),
        ("Aggravated burglary in a dwelling", 400, 1.00, IO),
        ("Aggravated burglary in a building other than a dwelling", 50, 1.00, IO),
        ("Distraction burglary in a dwelling", 500, 0.95, EW),
    )),
    *_subgroup(THEFT, "Vehicle offences", "45", "acquisitive", (
        ("Theft from a vehicle", 60_000, 0.99, EW), ("Theft or unauthorised taking of a motor vehicle", 25_000, 1.02, EW),
        ("Aggravated vehicle taking", 1_000, 1.00, EW), ("Interfering with a motor vehicle", 12_000, 1.01, SO),
        ("Attempted theft of or from a motor vehicle", 5_000, 0.99, EW),
    )),
    *_subgroup(THEFT, "Theft from the person", "39", "acquisitive", (
        ("Theft from the person", 22_000, 1.04, EW), ("Snatch theft from the person", 3_000, 1.05, EW),
    )),
    *_subgroup(THEFT, "Bicycle theft", "44", "acquisitive", (
        ("Theft or unauthorised taking of a pedal cycle", 20_000, 0.98, EW),
    )),
    *_subgroup(THEFT, "Shoplifting", "46", "shoplifting", (
        ("Shoplifting", 90_000, 1.06, EW), ("Attempted shoplifting", 2_000, 1.05, EW),
    )),
    *_subgroup(THEFT, "All other theft offences", "49", "acquisitive", (
        ("Other theft", 80_000, 0.99, EW), ("Theft by an employee", 1_500, 0.98, EW), ("Theft of mail", 400, 0.97, EW),
        ("Dishonest use of electricity", 200, 0.98, EW), ("Theft from automatic machine or meter", 600, 0.95, EW),
        ("Making off without payment", 12_000, 1.04, EW), ("Theft of livestock or farm equipment", 300, 1.00, EW),
        ("Theft of metal", 2_000, 0.95, EW), ("Theft in a dwelling other than from an automatic machine", 8_000, 1.00, EW),
    )),
    *_subgroup(DAMAGE, "Arson", "56", "damage", (
        ("Arson endangering life", 900, 1.02, IO), ("Arson not endangering life", 5_500, 1.00, EW),
    )),
    *_subgroup(DAMAGE, "Criminal damage", "58", "damage", (
        ("Criminal damage to a dwelling", 28_000, 1.00, EW),
        ("Criminal damage to a building other than a dwelling", 10_000, 0.99, EW),
        ("Criminal damage to a vehicle", 35_000, 1.00, EW), ("Other criminal damage", 20_000, 1.00, EW),
        ("Racially or religiously aggravated criminal damage", 700, 1.00, EW),
        ("Threat or possession with intent to commit criminal damage", 3_000, 1.02, EW),
        ("Criminal damage to a heritage asset", 40, 1.00, EW),
    )),
    *_subgroup(DRUGS, "Trafficking of drugs", "92", "drugs", (
        ("Trafficking in controlled drugs", 8_000, 1.03, IO), ("Production or cultivation of cannabis", 3_000, 0.98, EW),
        ("Supply of psychoactive substances", 150, 1.05, EW),
        ("Importation or exportation of controlled drugs", 120, 1.00, IO),
    )),
    *_subgroup(DRUGS, "Possession of drugs", "93", "drugs", (
        ("Possession of controlled drugs (cannabis)", 25_000, 0.97, EW),
        ("Possession of controlled drugs (excluding cannabis)", 8_000, 1.00, EW),
        ("Possession of psychoactive substances in a custodial institution", 60, 1.00, SO),
    )),
    *_subgroup(DRUGS, "Other drug offences", "94", "drugs", (
        ("Other drug offences", 250, 1.00, EW), ("Permitting premises to be used for drug offences", 100, 1.00, EW),
    )),
    *_subgroup(WEAPONS, "Possession of weapons offences", "81", "weapons", (
        ("Possession of firearms with intent", 350, 1.02, IO), ("Possession of firearms offences", 1_200, 1.03, EW),
        ("Possession of other weapons", 4_000, 1.06, EW), ("Possession of article with blade or point", 5_500, 1.06, EW),
        ("Other firearms offences", 150, 1.01, EW), ("Threatening with a blade or point", 600, 1.06, EW),
        ("Possession of an offensive weapon in a private place", 200, 1.10, EW),
    )),
    *_subgroup(PUBLIC_ORDER, "Public order offences", "66", "public_order", (
        ("Racially or religiously aggravated public fear, alarm or distress", 5_500, 1.04, EW),
        ("Violent disorder", 800, 1.02, IO), ("Riot", 1, 1.00, IO),
        ("Other offences against the State or public order", 3_000, 1.04, EW),
        ("Affray", 2_500, 1.03, EW), ("Fear or provocation of violence", 4_000, 1.05, EW),
        ("Intentional harassment, alarm or distress (public order)", 9_000, 1.05, EW),
        ("Stirring up hatred on grounds of race, religion or sexual orientation", 40, 1.03, IO),
    )),
    *_subgroup(MISCELLANEOUS, "Miscellaneous crimes against society", "60", "misc", (
        ("Handling stolen goods", 2_000, 0.96, EW), ("Going equipped for stealing", 600, 0.97, EW),
        ("Profiting from or concealing knowledge of the proceeds of crime", 1_200, 1.02, EW),
        ("Forgery or use of false drug prescription", 30, 0.98, EW), ("Other forgery", 200, 0.98, EW),
        ("Possession of false documents", 800, 1.00, EW), ("Perjury", 30, 1.00, IO),
        ("Offender Management Act offences", 500, 1.04, EW), ("Aiding suicide", 10, 1.00, IO),
        ("Perverting the course of justice", 800, 1.02, IO), ("Absconding from lawful custody", 60, 0.98, EW),
        ("Bail offences", 200, 1.00, SO), ("Obscene publications and protected sexual material", 4_000, 1.07, EW),
        ("Disclosure, obstruction, false or misleading statements", 150, 1.00, EW),
        ("Wildlife crime", 150, 1.01, EW), ("Dangerous driving", 1_800, 1.03, EW),
        ("Exploitation of prostitution", 30, 1.00, EW), ("Soliciting for the purpose of prostitution", 60, 0.95, SO),
        ("Bigamy", 5, 1.00, EW), ("Public health offences", 20, 1.00, EW), ("Other notifiable offences", 1_200, 1.02, EW),
        ("Adulteration of food", 2, 1.00, EW), ("Breach of a sexual harm prevention order", 900, 1.05, EW),
        ("Breach of a criminal behaviour order", 700, 1.05, EW), ("Fraud by a company director", 15, 1.00, EW),
        ("Concealing an infant death close to birth", 3, 1.00, IO), ("Assisting offenders", 80, 1.00, EW),
        ("Breach of a slavery and trafficking prevention order", 10, 1.05, EW),
        ("Threat or possession of a corrosive substance", 120, 1.08, EW),
        ("Possession of a prohibited image of children", 500, 1.06, EW),
    )),
)
# fmt: on


def by_code() -> dict[str, NationalOffence]:
    return {offence.code: offence for offence in OFFENCES}


def _check() -> None:
    codes = [o.code for o in OFFENCES]
    if len(codes) != len(set(codes)):
        raise ValueError("the synthetic offence list repeats a code")
    unknown = {o.profile for o in OFFENCES} - set(OUTCOME_PROFILES)
    if unknown:
        raise ValueError(f"unknown outcome profiles: {sorted(unknown)}")


_check()
