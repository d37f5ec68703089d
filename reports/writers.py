"""Writing log rows to CSV (UTF-8 with BOM, so Excel opens Chinese correctly) or XLSX (write-only, streamed)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from re import Pattern

    from openpyxl.cell import WriteOnlyCell

# Spreadsheet programs run cells starting with these as formulas: customer text must stay text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rough widths (characters) per column; Chinese glyphs are about two wide.
WIDTHS = (20, 22, 14, 10, 8, 10, 14, 60, 14, 18, 10, 10, 10, 10)


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Write rows to `path`; returns how many data rows were written."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_csv_value(value) for value in row])
            count += 1
    return count


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        # OWASP's advice for CSV injection: a leading quote makes Excel show the text as is.
        return "'" + value
    return value


def write_xlsx(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "logs") -> int:
    """Write rows to an .xlsx in openpyxl's write-only mode (rows go straight to disk); returns the row count.

    Datetimes get openpyxl's date format by themselves, so Excel can sort and filter on time.
    """
    # openpyxl costs about 0.1 s to import: paid by the first export, not by every start of the desk.
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for index, width in enumerate(WIDTHS[: len(header)], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([_bold(sheet, name) for name in header])
    count = 0
    for row in rows:
        sheet.append([_xlsx_value(sheet, value, ILLEGAL_CHARACTERS_RE) for value in row])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{count + 1}"
    workbook.save(path)
    return count


def _xlsx_value(sheet: Any, value: Any, illegal: Pattern[str]) -> Any:
    if isinstance(value, str):
        if illegal.search(value):
            # Control characters are not allowed in XML; customers do paste them.
            value = illegal.sub("", value)
        if value.startswith("="):
            # openpyxl would store this as a formula; force a text cell instead.
            from openpyxl.cell import WriteOnlyCell

            cell = WriteOnlyCell(sheet, value)
            cell.data_type = "s"
            return cell
        return value
    return value


def _bold(sheet: Any, value: Any) -> WriteOnlyCell:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(sheet, value)
    cell.font = Font(bold=True)
    return cell


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}
