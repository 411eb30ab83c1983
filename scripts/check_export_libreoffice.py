"""Check the CSV export against LibreOffice Calc: every cell must survive a trip through a spreadsheet.

    .venv/bin/python scripts/check_export_libreoffice.py [--keep DIR]

Not part of CI, and it installs nothing. It needs LibreOffice Calc's `soffice`; on Debian:

    apt-get install -y --no-install-recommends libreoffice-calc-nogui

What it does, headless and in a private LibreOffice profile:
 1. builds a cache file from the nasty end users of the export tests and exports it twice
    (UTF-8 without and with a BOM; ISO timestamps; formulas neutralized);
 2. fidelity: imports each CSV into Calc with every column as Text (UTF-8, comma, double
    quote), saves it as ODS and as XLSX, converts those back to CSV, and compares every cell
    with what the export wrote;
 3. safety: imports the export the way a careless person would, numbers detected and
    formulas evaluated, and checks no neutralized cell ran; the same import of an export
    made without neutralization shows the cells that would have run.
Prints a summary. A cell that differs only in what a spreadsheet cannot hold (line breaks
inside a cell become LF, NUL and ODS tabs are dropped, cells are cut at 32,767 (XLSX) or
65,535 characters) is listed as a spreadsheet limit; exit status 0 when nothing else differs
and no neutralized cell ran as a formula.
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "export")]

from desktop_app.export import ExportOptions, export_csv  # noqa: E402

UTF8 = 76  # LibreOffice's character-set code for UTF-8
TIMEOUT_S = 180


@dataclass(frozen=True)
class Mismatch:
    """One cell that did not come back as written."""

    route: str
    row: int
    column: str
    written: str
    read_back: str

    def __str__(self) -> str:
        def short(text: str) -> str:
            return repr(text if len(text) <= 60 else text[:40] + f"…({len(text):,} chars)")

        return (f"  {self.route}: row {self.row}, {self.column}: wrote {short(self.written)}, "
                f"got {short(self.read_back)}")


def find_soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def import_options(columns: int, as_text: bool, evaluate_formulas: bool, trim: bool = False) -> str:
    """CSV import filter tokens: comma, double quote, UTF-8, from line 1, column formats...

    Tokens: 1 separator, 2 text delimiter, 3 charset, 4 first line, 5 column formats
    (2 = Text, 1 = Standard), 6 language (1033 = English US), 7 quoted field as text,
    8 detect special numbers, 9-10 export-only, 11 remove (trim) spaces, 12 unused here,
    13 evaluate formulas.
    """
    kind = 2 if as_text else 1
    formats = "/".join(f"{i}/{kind}" for i in range(1, columns + 1))
    detect = "false" if as_text else "true"
    evaluate = "true" if evaluate_formulas else "false"
    trimmed = "true" if trim else "false"
    return f"44,34,{UTF8},1,{formats},1033,{str(as_text).lower()},{detect},false,false,{trimmed},-1,{evaluate}"


# Export tokens: comma, double quote, UTF-8, line 1, no formats, language, quote all text
# cells, (8) unused, (9) save cell contents as shown: true, so we see what Calc displays.
EXPORT_OPTIONS = f"44,34,{UTF8},1,,1033,true,false,true"


class Calc:
    """Runs soffice headless in a private profile (the person's own profile is never touched)."""

    def __init__(self, soffice: str, work: Path) -> None:
        self.soffice = soffice
        self.profile = (work / "lo-profile").as_uri()

    def convert(self, source: Path, target_format: str, out_dir: Path, infilter: str | None = None) -> Path:
        out_dir.mkdir(parents=True, exist_ok=True)
        command = [self.soffice, "--headless", "--norestore", f"-env:UserInstallation={self.profile}",
                   "--convert-to", target_format, "--outdir", str(out_dir)]
        if infilter:
            command.append(f"--infilter={infilter}")
        command.append(str(source))
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
        extension = target_format.split(":", 1)[0]
        produced = out_dir / f"{source.stem}.{extension}"
        if done.returncode != 0 or not produced.exists():
            raise RuntimeError(f"soffice could not convert {source.name} to {extension}: "
                               f"{(done.stderr or done.stdout).strip()[-500:]}")
        return produced


def read_cells(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


# What a spreadsheet cannot hold, whatever the CSV says (measured with Calc 7.4): a cell that
# differs only in these ways is reported as a spreadsheet limit, not as an export fault.
CELL_LIMITS = (32_767, 65_535)  # XLSX (Excel's limit) and Calc's own


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def spreadsheet_limit(written: str, read_back: str) -> str | None:
    """Why Calc changed a cell, when the cause is Calc's cell model rather than the CSV."""
    if _lf(written) == read_back:
        return "line breaks inside a cell are stored as LF"
    if written.replace("\x00", "") == read_back:
        return "NUL characters are dropped"
    if written.replace("\t", "") == read_back:
        return "tab characters are dropped (ODS)"
    if len(read_back) in CELL_LIMITS and _lf(written).startswith(read_back):
        return f"cells are cut at {len(read_back):,} characters"
    return None


def compare(route: str, written: list[list[str]], read_back: list[list[str]]) -> list[Mismatch]:
    header = written[0]
    problems: list[Mismatch] = []
    if len(read_back) != len(written):
        problems.append(Mismatch(route, 0, "(rows)", str(len(written)), str(len(read_back))))
    for r, (ours, theirs) in enumerate(zip(written, read_back)):
        theirs = theirs + [""] * (len(ours) - len(theirs))  # Calc drops trailing empty cells
        for c, cell in enumerate(ours):
            if theirs[c] != cell:
                problems.append(Mismatch(route, r, header[c] if c < len(header) else str(c), cell, theirs[c]))
    return problems


def fidelity(calc: Calc, exported: Path, work: Path) -> tuple[int, list[Mismatch]]:
    written = read_cells(exported)
    infilter = "CSV:" + import_options(len(written[0]), as_text=True, evaluate_formulas=False)
    problems: list[Mismatch] = []
    for sheet_format in ("ods", "xlsx"):
        sheet = calc.convert(exported, sheet_format, work / f"{exported.stem}-{sheet_format}", infilter)
        back = calc.convert(sheet, f"csv:Text - txt - csv (StarCalc):{EXPORT_OPTIONS}",
                            work / f"{exported.stem}-{sheet_format}-back")
        problems += compare(f"{exported.name} -> {sheet_format} -> csv", written, read_cells(back))
    cells = sum(len(row) for row in written)
    return cells, problems


def _same_number(written: str, shown: str) -> bool:
    try:
        return float(written) == float(shown)
    except ValueError:
        return False


def formula_safety(calc: Calc, exported: Path, work: Path, trim: bool = False) -> list[tuple[str, str, str]]:
    """Cells Calc evaluated when importing with formulas on: (column, wrote, Calc shows).

    A cell counts as evaluated when, less leading whitespace (`trim`: Calc's "Remove spaces"
    import option, which trims before evaluating), it starts with = + - @ or a full-width
    form and came back as something else (less the trimmed spaces); a plain number that came
    back as the same number ("+3" as 3) was read, not run.
    """
    written = read_cells(exported)
    infilter = "CSV:" + import_options(len(written[0]), as_text=False, evaluate_formulas=True, trim=trim)
    stem = f"{exported.stem}-eval{'-trim' if trim else ''}"
    sheet = calc.convert(exported, "ods", work / stem, infilter)
    back = read_cells(calc.convert(sheet, f"csv:Text - txt - csv (StarCalc):{EXPORT_OPTIONS}",
                                   work / f"{stem}-back"))
    ran = []
    for ours, theirs in zip(written[1:], back[1:]):
        theirs = theirs + [""] * (len(ours) - len(theirs))
        for c, cell in enumerate(ours):
            shown = theirs[c]
            if (cell.lstrip()[:1] in "=+-@\uff1d\uff0b\uff0d\uff20" and shown not in (cell, cell.strip())
                    and not _same_number(cell, shown)):
                ran.append((written[0][c], cell, shown))
    return ran


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep the files")
    args = parser.parse_args(argv)
    soffice = find_soffice()
    if soffice is None:
        print("LibreOffice is not installed, so there is nothing to check against.\n"
              "Install Calc without a GUI, then run this again:\n"
              "  apt-get install -y --no-install-recommends libreoffice-calc-nogui", file=sys.stderr)
        return 2

    from sqlalchemy import Engine

    from desktop_app.cache.reading.query import EndUserQuery
    from nasty_end_users import NASTY_USERS, make_cache

    work = args.keep or Path(tempfile.mkdtemp(prefix="check-export-lo-"))
    work.mkdir(parents=True, exist_ok=True)
    engine: Engine | None = None
    try:
        engine = make_cache(work / "cache.sqlite3", NASTY_USERS)
        query = EndUserQuery(engine)
        plain, with_bom, unsafe = work / "nasty.csv", work / "nasty-bom.csv", work / "nasty-unsafe.csv"
        export_csv(query, "", plain)
        export_csv(query, "", with_bom, ExportOptions(bom=True))
        export_csv(query, "", unsafe, ExportOptions(neutralize_formulas=False))
        calc = Calc(soffice, work)
        version = subprocess.run([soffice, "--version"], capture_output=True, text=True,
                                 timeout=TIMEOUT_S).stdout.strip()
        print(f"{version}\nexported {len(NASTY_USERS)} nasty end users to {work}\n")

        failed = False
        for exported in (plain, with_bom):
            cells, problems = fidelity(calc, exported, work)
            limits = [(p, spreadsheet_limit(p.written, p.read_back)) for p in problems]
            faults = [p for p, why in limits if why is None]
            print(f"fidelity {exported.name}: {cells} cells x 2 routes (ods, xlsx): "
                  f"{cells * 2 - len(problems)} identical, {len(limits) - len(faults)} changed by "
                  f"spreadsheet limits, {len(faults)} export faults")
            by_reason: dict[str, list[str]] = {}
            for problem, why in limits:
                if why is not None:
                    by_reason.setdefault(why, []).append(f"{problem.column} ({problem.route.split(' -> ')[1]})")
            for why, where in by_reason.items():
                print(f"  spreadsheet limit, {why}: {', '.join(where)}")
            for fault in faults:
                print(f"  EXPORT FAULT{fault}")
            failed |= bool(faults)

        for trim in (False, True):
            ran = formula_safety(calc, plain, work, trim=trim)
            print(f"\nformula safety, neutralized export, formulas evaluated on import"
                  f"{', spaces trimmed' if trim else ''}: "
                  f"{'no cell ran' if not ran else f'{len(ran)} cells ran'}")
            for column, wrote, shows in ran:
                print(f"  {column}: wrote {wrote!r}, Calc shows {shows!r}")
            failed |= bool(ran)
        would = formula_safety(calc, unsafe, work)
        print(f"the same import of an export WITHOUT neutralization: {len(would)} cells ran, e.g.")
        for column, wrote, shows in would[:6]:
            print(f"  {column}: wrote {wrote!r}, Calc shows {shows!r}")
        print("\nRESULT:", "FAIL" if failed else "PASS")
        return 1 if failed else 0
    finally:
        if engine is not None:
            engine.dispose()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
