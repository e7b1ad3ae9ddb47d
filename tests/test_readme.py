"""The README stays true: its generated sections match the code, its test command is what CI runs."""

import re
from pathlib import Path

from toyregimes.derivations.report import readme_section

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_verified_derivations_section_is_generated_from_the_registry():
    match = re.search(r"<!-- derivations:start[^>]*-->\n(.*?)<!-- derivations:end -->", README, re.S)
    assert match, "README lacks the generated derivations section"
    assert match.group(1).strip() == readme_section().strip(), \
        "regenerate with `python -m toyregimes.derivations --readme`"


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```bash\n(.*?)\n```", README, re.S)
    assert len(commands) == 2, "the README shows exactly two newcomer commands"
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1].strip() in ci
