"""Fill Japanese translations into the catalogue from a JSON file of {msgid: msgstr}.

Used when a change adds many strings at once: `python tools/po_fill.py translations.json`. Entries
named in the file lose their fuzzy flag and previous-msgid comments; others are left as they are.
"""

import json
import re
import sys
from pathlib import Path

PO = Path(__file__).resolve().parent.parent / "sesshu" / "locale" / "ja" / "LC_MESSAGES" / "django.po"


def unquote(lines: list[str]) -> str:
    return "".join(json.loads(line) for line in lines)


def fill(po_text: str, translations: dict[str, str]) -> tuple[str, int]:
    blocks = po_text.split("\n\n")
    filled = 0
    for i, block in enumerate(blocks):
        match = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if not match:
            continue
        msgid = unquote(re.findall(r'".*"', match.group(1)))
        if not msgid or msgid not in translations:
            continue
        text = json.dumps(translations[msgid], ensure_ascii=False)
        lines = [ln for ln in block.split("\n") if not ln.startswith("#|")]
        lines = [ln.replace("#, fuzzy, ", "#, ").replace(", fuzzy", "") for ln in lines if ln != "#, fuzzy"]
        block = "\n".join(lines)
        if "msgid_plural" in block:
            block = re.sub(r'msgstr\[0\] (?:".*"\n?)+', f"msgstr[0] {text}\n", block).rstrip("\n")
        else:
            block = re.sub(r'msgstr (?:".*"\n?)+', f"msgstr {text}\n", block).rstrip("\n")
        blocks[i] = block
        filled += 1
    return "\n\n".join(blocks), filled


if __name__ == "__main__":
    translations = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    text, filled = fill(PO.read_text(encoding="utf-8"), translations)
    PO.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    print(f"filled {filled} of {len(translations)}")
