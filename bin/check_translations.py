"""Fail when a Chinese catalogue is incomplete or stale (run by .ci/run).

    .venv/bin/python bin/check_translations.py [--locale DIR] [--no-source-check]

For locale/zh_Hans and locale/zh_Hant (LC_MESSAGES/django.po) it lists, and exits 1 on:

- untranslated entries (an empty msgstr, or an empty plural form);
- fuzzy entries (``#, fuzzy``: a guess by msgmerge that nobody has checked);
- texts marked for translation in the source that the catalogue lacks (a stale
  catalogue). For these, makemessages runs on a temporary copy of the project, never
  on the tree itself, with the options the catalogues are made with:

    .venv/bin/python manage.py makemessages -l zh_Hans -l zh_Hant -l en \\
        --ignore=.venv --ignore=tests --ignore=benchmarks --ignore=artifacts \\
        --no-obsolete --add-location file

  Run that command in the project (then translate, and remove the fuzzy flags) to
  fix what this script reports.

--locale DIR checks the catalogues under DIR instead of locale/ (to try the script on
a copy); --no-source-check skips makemessages (the first two checks only).
"""

import argparse
import ast
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ["zh_Hans", "zh_Hant"]
CATALOGUE = Path("LC_MESSAGES") / "django.po"
# Never scanned for texts: what makemessages is told to ignore, and what is not source.
IGNORED = [".venv", "tests", "benchmarks", "artifacts"]
NOT_SOURCE = [".git", "var", "staticfiles", "media", ".env", "db.sqlite3", "*.mo"]
NOT_SOURCE += [".hypothesis", ".pytest_cache", ".ruff_cache", "__pycache__", "node_modules"]


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str]:
        return self.msgctxt, self.msgid

    def __str__(self) -> str:
        text = repr(self.msgid)
        if self.msgctxt is not None:
            text = f"[{self.msgctxt}] {text}"
        return text


def parse(path: Path) -> list[Entry]:
    """The live entries of a .po file (no header, no obsolete #~ entries)."""
    entries: list[Entry] = []
    entry, target, done = Entry(), None, False

    def finish():
        nonlocal entry, target, done
        if done and entry.msgid:
            entries.append(entry)
        entry, target, done = Entry(), None, False

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            finish()
            continue
        if line.startswith("#"):
            if done:
                finish()
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith('"'):
            value = ast.literal_eval(line)
            if target == "msgctxt":
                entry.msgctxt = (entry.msgctxt or "") + value
            elif target == "msgid":
                entry.msgid += value
            elif target == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + value
            elif isinstance(target, int):
                entry.msgstr[target] += value
            continue
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and done:
            finish()
        value = ast.literal_eval(rest)
        entry.line = entry.line or number
        if keyword in ("msgctxt", "msgid", "msgid_plural"):
            target = keyword
            setattr(entry, keyword, value)
        elif keyword == "msgstr" or keyword.startswith("msgstr["):
            target = int(keyword[7:-1]) if "[" in keyword else 0
            entry.msgstr[target] = value
            done = True
        else:
            raise ValueError(f"{path}:{number}: cannot read {raw!r}")
    finish()
    return entries


def source_catalogues(languages: list[str]) -> dict[str, list[Entry]]:
    """The catalogues as makemessages would make them from the source now, made in a
    temporary copy of the project so that the tree is never touched."""
    with tempfile.TemporaryDirectory(prefix="o2d-messages-") as temp:
        copy = Path(temp) / "project"
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*IGNORED, *NOT_SOURCE))
        command = [sys.executable, "manage.py", "makemessages", "-v0"]
        command += [f"-l{language}" for language in [*languages, "en"]]
        command += [f"--ignore={name}" for name in IGNORED]
        command += ["--no-obsolete", "--add-location", "file"]
        made = subprocess.run(command, cwd=copy, capture_output=True, text=True)  # noqa: S603
        if made.returncode:
            sys.exit(f"makemessages failed:\n{made.stdout}{made.stderr}")
        return {language: parse(copy / "locale" / language / CATALOGUE) for language in languages}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--locale", type=Path, default=ROOT / "locale")
    parser.add_argument("--no-source-check", action="store_true")
    options = parser.parse_args()

    fresh = {} if options.no_source_check else source_catalogues(LANGUAGES)
    problems = 0
    for language in LANGUAGES:
        path = options.locale / language / CATALOGUE
        entries = parse(path)
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        found = []
        for entry in entries:
            if "fuzzy" in entry.flags:
                found.append(f"{shown}:{entry.line}: fuzzy: {entry}")
            elif not entry.msgstr or not all(entry.msgstr.values()):
                found.append(f"{shown}:{entry.line}: untranslated: {entry}")
        known = {entry.key for entry in entries}
        for entry in fresh.get(language, []):
            if entry.key not in known:
                found.append(f"{shown}: missing (in the source, not in the catalogue): {entry}")
        problems += len(found)
        print(f"{language}: {len(entries)} entries, {len(found)} problem(s)")
        for line in found:
            print(f"  {line}")
    if problems:
        print(
            f"{problems} translation problem(s). Run makemessages (see the top of "
            "bin/check_translations.py), translate, and remove the fuzzy flags.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
