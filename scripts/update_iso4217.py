"""Regenerate payhub_core/_iso4217.py from the ISO 4217 list one (SIX Group XML).

Usage: python scripts/update_iso4217.py path/to/list-one.xml

The XML is published by SIX Group, the ISO 4217 maintenance agency. The `iso4217`
package on PyPI ships a copy of it (``iso4217/table.xml``), which is what the
checked-in table was generated from.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "payhub_core/src/payhub_core/_iso4217.py"


def main(xml_path: str) -> None:
    root = ET.parse(xml_path).getroot()  # noqa: S314 (SIX's published list, run by a maintainer)
    published = root.attrib["Pblshd"]
    table: dict[str, int] = {}
    for entry in root.iter("CcyNtry"):
        code = entry.findtext("Ccy")
        units = entry.findtext("CcyMnrUnts")
        if not code or units is None or not units.strip().isdigit():
            continue  # funds, precious metals and testing codes have "N.A."
        table[code] = int(units)
    lines = [
        '"""ISO 4217 currency codes and their minor units (list one). Generated: do not edit.',
        "",
        "Source: ISO 4217 list one, published by SIX Group (maintenance agency),",
        f"edition of {published}; regenerate with scripts/update_iso4217.py.",
        "Codes without minor units in the list (funds, metals, XXX, XTS) are left out:",
        "nobody pays in them.",
        '"""',
        "",
        f'PUBLISHED = "{published}"',
        "",
        "MINOR_UNITS: dict[str, int] = {",
    ]
    lines += [f'    "{code}": {units},' for code, units in sorted(table.items())]
    lines += ["}", ""]
    TARGET.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {len(table)} currencies ({published}) to {TARGET}")


if __name__ == "__main__":
    main(sys.argv[1])
