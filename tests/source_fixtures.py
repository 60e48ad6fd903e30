"""Small tables in each official layout, and writers for every accepted file type.

Each fixture copies its publisher's layout: title and notes rows above the header,
columns in the publisher's order, suppression markers where the publisher puts them.
"""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Fixture:
    layout: str
    raw_table: str
    title: list[str]
    header: list[str]
    rows: list[list[str]]
    #: canonical raw column -> header text, for reading values back
    columns: dict[str, str] = field(default_factory=dict)
    #: a wide table: how many period columns each row spreads over (one raw row each)
    melt: int = 0

    def cells(self) -> list[list[str]]:
        return [[t] for t in self.title] + [[]] + [self.header] + self.rows


FIXTURES: dict[str, Fixture] = {
    "home_office_prc_pfa_v1": Fixture(
        "home_office_prc_pfa_v1",
        "home_office__recorded_crime",
        ["Police recorded crime by police force area, year ending March 2017"],
        ["Financial Year", "Financial Quarter", "Force Name", "Offence Description", "Offence Group",
         "Offence Subgroup", "Offence Code", "Number of Offences"],
        [
            ["2016/17", "1", "Kent", "Harassment", "Violence against the person", "Stalking and harassment", "8L", "1,204"],
            ["2016/17", "1", "London, City of", "Stalking", "Violence against the person", "Stalking and harassment", "8Q", "3"],
            ["2016/17", "2", "Devon and Cornwall", "Stalking", "Violence against the person", "Stalking and harassment", "8Q", "-2"],
            ["2016/17", "1", "Devon and Cornwall", "Stalking", "Violence against the person", "Stalking and harassment", "8Q", "40"],
            ["2016/17", "1", "Action Fraud", "Fraud", "Fraud offences", "Fraud: Action Fraud", "53A", ".."],
        ],
        {"force_name": "Force Name", "number_of_offences": "Number of Offences"},
    ),
    "home_office_outcomes_a": Fixture(
        "home_office_outcomes_a",
        "home_office__outcomes",
        ["Crime outcomes in England and Wales: open data, year ending March 2017", "Notes: see the user guide"],
        ["Financial Year", "Financial Quarter", "Force Name", "Offence Code", "Offence Description", "Offence Group",
         "Offence Subgroup", "Offence code expired", "Outcome Type", "Outcome Description", "Outcome Group",
         "Outcomes for offences that were recorded in the quarter",
         "Outcomes for investigations closed in the quarter"],
        [
            ["2016/17", "1", "Kent", "8L", "Harassment", "Violence against the person", "Stalking and harassment", "",
             "1", "Charged/Summonsed", "Charged/Summonsed", "120", "131"],
            ["2016/17", "1", "Kent", "8L", "Harassment", "Violence against the person", "Stalking and harassment", "",
             "16", "Evidential difficulties: victim does not support", "Evidential difficulties (victim does not support action)", "380", "402"],
            ["2016/17", "1", "Kent", "8L", "Harassment", "Violence against the person", "Stalking and harassment", "",
             "0", "Not yet assigned an outcome", "Not yet assigned an outcome", "95", "N/A"],
            ["2016/17", "1", "Cumbria", "8Q", "Stalking", "Violence against the person", "Stalking and harassment", "x",
             "18", "Investigation complete – no suspect identified", "Investigation complete – no suspect identified",
             "N/A - data not provided", "N/A - data not provided"],
            ["2016/17", "2", "Kent", "8L", "Harassment", "Violence against the person", "Stalking and harassment", "",
             "1", "Charged/Summonsed", "Charged/Summonsed", "-1", "-2"],
        ],
        {"force_name": "Force Name", "outcomes_recorded_basis": "Outcomes for offences that were recorded in the quarter"},
    ),
    "home_office_outcomes_b": Fixture(
        "home_office_outcomes_b",
        "home_office__outcomes",
        ["Outcomes open data (header variant B)"],
        ["Financial Year", "Financial Quarter", "Force Name", "Offence Description", "Offence Group",
         "Offence Subgroup", "Offence Code", "Outcome Description", "Outcome Group", "Outcome Type",
         "Force outcomes for offences recorded in quarter", "Force outcomes recorded in quarter"],
        [
            ["2015/16", "4", "Gwent", "Stalking", "Violence against the person", "Stalking and harassment", "8Q",
             "Charged/Summonsed", "Charged/Summonsed", "1", "7", "9"],
            ["2015/16", "4", "Gwent", "Stalking", "Violence against the person", "Stalking and harassment", "8Q",
             "Not yet assigned an outcome", "Not yet assigned an outcome", "", "4", "NA"],
        ],
        {"force_name": "Force Name", "outcomes_recorded_basis": "Force outcomes for offences recorded in quarter"},
    ),
    "ons_pfa_tables_v1": Fixture(
        "ons_pfa_tables_v1",
        "ons__pfa_recorded_crime",
        ["Table P1: Police recorded crime by offence group and police force area, English and Welsh police "
         "forces, year ending December 2016", "This worksheet contains one table."],
        ["Area Code", "Area Name", "Total recorded crime (excluding fraud) [note 2]", "Violence against the person",
         "Stalking and harassment [note 4]"],
        [
            ["K04000001", "England and Wales", "5,012,345", "1,200,000", "290,123"],
            ["E12000005", "West Midlands", "400,000", "100,000", "[x]"],
            ["E23000014", "West Midlands", "250,000", "70,000", "15,321"],
            ["W15000004", "Dyfed-Powys", "20,000", "6,000", "1,020"],
        ],
        {"area_code": "Area Code", "stalking_and_harassment": "Stalking and harassment [note 4]"},
    ),
    "ons_pfa_rates_v1": Fixture(
        "ons_pfa_rates_v1",
        "ons__pfa_rates",
        ["Table P3:  Police recorded crime by offence group and police force area, English regions and Wales, "
         "rate of offences, year ending March 20181,2", "", "England and Wales"],
        ["Area Code", "Area Name", "Population figures\n (mid-2016)3  rounded to 100", "", "Stalking\nand harassment"],
        [
            ["K04000001", "ENGLAND AND WALES10", "58381200", "", "5.06"],
            ["E23000034", "City of London", "7300", "", "+"],
            ["E23000031", "Surrey7,8", "1185300", "", "3.7"],
        ],
        {"area_code": "Area Code", "stalking_and_harassment_rate": "Stalking\nand harassment"},
    ),
    "ons_pfa_mye_wide_v1": Fixture(
        "ons_pfa_mye_wide_v1",
        "ons__population",
        ["Table P9:  Mid-year population estimates for police force areas, English regions and Wales, 2002 to 20161"],
        ["Area Code", "Area Name", "2015", "2016"],
        [
            ["K04000001", "ENGLAND AND WALES", "57885400", "58381200"],
            ["W15000004", "Dyfed-Powys", "515100", "515100"],
        ],
        {"area_code": "Area Code"},
        melt=2,
    ),
    "ons_appendix_a5a_v1": Fixture(
        "ons_appendix_a5a_v1",
        "ons__appendix_recorded_crime",
        ["Table A5a:  Police recorded crime by offence, year ending March 2003 to year ending September 2025 "
         "and percentage change between year ending September 2024 and year ending September 2025 [notes 1, 2]",
         "England and Wales", "Some shorthand is used in this table. [x] indicates that data are not available"],
        ["Offence\n code", "Offence category", "Apr 2013 to \n Mar 2014", "Apr 2014 to \n Mar 2015",
         "Oct 2024 to Sep 2025", "Percentage change"],
        [
            ["", "Stalking and harassment [note 22, 27]", "62656", "80531", "716824", "-3"],
            ["8L", "Harassment [note 24,25,26,27]", "59942", "77297", "316279", "-2"],
            ["8Q", "Stalking [note 25,27]", "[x]", "2882", "135590", "4"],
        ],
        {"offence_category": "Offence category"},
        melt=3,
    ),
    "home_office_prc_rolling_v1": Fixture(
        "home_office_prc_rolling_v1",
        "home_office__pfa_rolling",
        ["Police recorded crime by police force area, rolling 12-month totals"],
        ["12 months ending", "PFA", "Region", "Offence", "Rolling year total number of offences"],
        [
            ["31/12/2016", "Surrey", "South East", "Stalking and harassment", "3500"],
            ["30/12/2017", "Surrey", "South East", "Stalking and harassment", "4366"],
            ["31/12/2017", "City of London", "London", "Stalking and harassment", "54"],
            ["31/12/2017", "Action Fraud", "Fraud: Action Fraud", "Action Fraud", "300000"],
            ["31/12/2017", "Kent", "South East", "Miscellaneous crimes against society", "-3"],
        ],
        {"force_name": "PFA", "rolling_total": "Rolling year total number of offences"},
    ),
    "ons_mye_pfa_v1": Fixture(
        "ons_mye_pfa_v1",
        "ons__population",
        ["Mid-year population estimates, police force areas in England and Wales, mid-2016"],
        ["Code", "Name", "Geography", "All ages"],
        [
            ["K04000001", "England and Wales", "Country", "58,381,200"],
            ["E23000001", "Metropolitan Police", "Police Force Area", "8,769,700"],
            ["E23000034", "London, City of", "Police Force Area", "7,200"],
        ],
        {"area_code": "Code", "population": "All ages"},
    ),
    "csew_prevalence_v1": Fixture(
        "csew_prevalence_v1",
        "csew__prevalence",
        ["Prevalence of stalking among adults aged 16 to 59, by sex, Crime Survey for England and Wales"],
        ["Survey year", "Behaviour", "Measure", "Age group", "Sex", "Percentage", "Lower 95% confidence interval",
         "Upper 95% confidence interval", "Unweighted base"],
        [
            ["2015/16", "Stalking", "In the last year", "16-59", "Women", "5.4", "5.0", "5.8", "11,234"],
            ["2015/16", "Stalking", "Since the age of 16", "16-59", "Women", "20.1", "19.4", "20.8", "11,234"],
            ["year ending March 2016", "Stalking and/or harassment", "Since the age of 16", "16-59", "All adults",
             "15.0", "[c]", "[c]", ".."],
        ],
        {"sex": "Sex", "percentage": "Percentage"},
    ),
    "cps_vawg_v1": Fixture(
        "cps_vawg_v1",
        "cps__vawg",
        ["Stalking and harassment prosecutions and convictions by CPS Area"],
        ["Financial Year", "CPS Area", "Offence", "Prosecutions", "Convictions", "Conviction Rate"],
        [
            ["2015-16", "Wessex", "Stalking", "61", "45", "73.8%"],
            ["2015-16", "Wales/Cymru", "Harassment", "702", "532", "75.8"],
            ["2015-16", "Merseyside & Cheshire", "Stalking", "*", "*", "*"],
            ["2015-16", "National", "Stalking", "1,102", "812", "73.7"],
        ],
        {"cps_area": "CPS Area", "prosecutions": "Prosecutions"},
    ),
    "moj_court_outcomes_pfa_v1": Fixture(
        "moj_court_outcomes_pfa_v1",
        "moj__court_outcomes",
        [],
        ["Police Force Area", "Year of Appearance", "Sex", "Age Group", "Court Type", "Offence Type", "Offence Group",
         "Offence", "Convicted/Not Convicted", "Sentenced/Not Sentenced", "Outcome", "Custodial Sentence Length",
         "Count"],
        [
            ["Devon & Cornwall", "2015", "01: Male", "01: Adults", "02: Magistrates Court", "03: Summary non-motoring",
             "11: Summary non-motoring", "Protection from Harassment Act 1997 S.2 - Summary offence of harassment",
             "01: Convicted", "01: Sentenced", "12: Fine", "", "14"],
            ["Metropolitan", "2015", "02: Female", "01: Adults", "01: Crown Court", "02: Triable either way",
             "01: Violence against the person", "Stalking involving fear of violence", "01: Convicted",
             "01: Sentenced", "15: Immediate custody", "05: More than 12 months and up to 18 months", "3"],
            ["Not known", "2015", "01: Male", "01: Adults", "02: Magistrates Court", "03: Summary non-motoring",
             "11: Summary non-motoring", "Breach of a non-molestation order", "02: Not convicted",
             "02: Not sentenced", "02: Withdrawn", "", "2"],
        ],
        {"police_force_area": "Police Force Area", "count": "Count"},
    ),
    "moj_restraining_orders_v1": Fixture(
        "moj_restraining_orders_v1",
        "moj__restraining_orders",
        ["Restraining orders issued on conviction and on acquittal"],
        ["Year", "Police Force Area", "Offence", "Restraining orders issued on conviction",
         "Restraining orders issued on acquittal"],
        [
            ["2015", "Dyfed Powys", "All offences", "210", "25"],
            ["2015", "Hampshire and Isle of Wight", "All offences", "812", "[c]"],
        ],
        {"police_force_area": "Police Force Area", "orders_on_conviction": "Restraining orders issued on conviction"},
    ),
}  # fmt: skip

#: The platform's long form of ``ons_mye_pfa_v1`` (not a confirmed ONS table): sex and
#: age group columns, so one area and year has persons of all ages and men, women and
#: persons aged 16-59, each spelt a different accepted way.
ONS_MYE_BY_SEX_AND_AGE = Fixture(
    "ons_mye_pfa_v1",
    "ons__population",
    ["Mid-year population estimates by sex and age group, England and Wales and police force areas, mid-2016"],
    ["Code", "Name", "Geography", "Sex", "Age group", "Population"],
    [
        ["K04000001", "England and Wales", "Country", "Persons", "All ages", "58,381,200"],
        ["K04000001", "England and Wales", "Country", "Males", "16-59", "17,150,000"],
        ["K04000001", "England and Wales", "Country", "women", "16 to 59", "17,250,000"],
        ["K04000001", "England and Wales", "Country", "All persons", "Aged 16 to 59", "34,400,000"],
        ["E23000034", "London, City of", "Police Force Area", "All", "All ages", "7,200"],
    ],
    {"area_code": "Code", "sex": "Sex", "age_group": "Age group", "population": "Population"},
)  # fmt: skip


def with_rows(layout_id: str, rows: list[list[str]], header: list[str] | None = None) -> list[list[str]]:
    """A table in ``layout_id``'s layout (its title rows, a blank row, the header) holding ``rows``."""
    fixture = FIXTURES[layout_id]
    return [[t] for t in fixture.title] + [[]] + [header or fixture.header] + rows


def prc(year="2016/17", quarter="1", force="Kent", code="8L", count="10") -> list[str]:
    """One recorded crime row in the Home Office column order."""
    return [
        year,
        quarter,
        force,
        "Harassment",
        "Violence against the person",
        "Stalking and harassment",
        code,
        count,
    ]


def _typed(value: str):
    """A cell as a spreadsheet would hold it: whole numbers without separators as numbers."""
    if value.isascii() and value.lstrip("-").isdigit():
        return int(value)
    return value


def write_table(path: Path, cells: list[list[str]], *, sheet: str = "Data", notes_sheet: bool = True) -> Path:
    """Write ``cells`` as CSV, XLSX or ODS (by ``path``'s suffix), or as a CSV inside a zip."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with open(path, "w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(cells)
    elif suffix == ".xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        first = book.active
        if notes_sheet:
            first.title = "Notes"
            first.append(["Notes"])
            first.append(["1. This sheet has no table."])
            data = book.create_sheet(sheet)
        else:
            first.title = sheet
            data = first
        for row in cells:
            data.append([_typed(v) for v in row])
            for cell in data[data.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text, not a formula
        book.save(path)
    elif suffix == ".ods":
        import pandas as pd

        width = max(len(r) for r in cells)
        frame = pd.DataFrame([[_typed(v) for v in r] + [None] * (width - len(r)) for r in cells])
        with pd.ExcelWriter(path, engine="odf") as writer:
            if notes_sheet:
                pd.DataFrame([["Notes"], ["This sheet has no table."]]).to_excel(
                    writer, sheet_name="Notes", header=False, index=False
                )
            frame.to_excel(writer, sheet_name=sheet, header=False, index=False)
    elif suffix == ".zip":
        inner = path.with_suffix(".csv")
        write_table(inner, cells)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(inner, arcname=f"data/{inner.name}")
        inner.unlink()
    else:
        raise ValueError(path)
    return path
