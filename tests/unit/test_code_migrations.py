"""The code's migrations (head and known revisions) as the start-up check reads them: the same
as Alembic's, without importing Alembic (and Mako, and Pygments) into a serving worker."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from entrypoints.storage.schema import MIGRATIONS_DIR, code_migrations, migrations_in


def test_the_code_migrations_are_alembics() -> None:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    assert [code_migrations().head] == script.get_heads()
    assert code_migrations().known == {r.revision for r in script.walk_revisions()}


def test_reading_them_imports_no_alembic() -> None:
    program = (
        "import sys\n"
        "from entrypoints.storage.schema import code_migrations\n"
        "code_migrations()\n"
        "print(sorted(m for m in ('alembic', 'mako', 'pygments') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def script(folder: Path, revision: str, down: str) -> None:
    (folder / f"{revision}.py").write_text(
        f'"""{revision}"""\n\nrevision: str = "{revision}"\ndown_revision = {down}\n'
    )


def test_a_merge_has_one_head(tmp_path: Path) -> None:
    script(tmp_path, "a", "None")
    script(tmp_path, "b", '"a"')
    script(tmp_path, "c", '"a"')
    script(tmp_path, "d", '("b", "c")')
    (tmp_path / "helpers.py").write_text("X = 1\n")  # not a migration script
    migrations = migrations_in(tmp_path)
    assert migrations.head == "d"
    assert migrations.known == {"a", "b", "c", "d"}


def test_two_heads_are_refused(tmp_path: Path) -> None:
    script(tmp_path, "a", "None")
    script(tmp_path, "b", '"a"')
    script(tmp_path, "c", '"a"')
    with pytest.raises(RuntimeError, match="2 heads"):
        migrations_in(tmp_path)
