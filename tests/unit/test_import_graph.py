"""The import graph check (`python -m tests.tools.import_graph`): no import cycle, and reports/ never imports
orchestration/."""

import subprocess
import sys

from tests.fixtures import REPO
from tests.tools import import_graph


def test_the_project_has_no_cycle_and_reports_never_imports_orchestration():
    completed = subprocess.run(
        [sys.executable, "-m", "tests.tools.import_graph"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "reports.api -> reports.analytics" in completed.stdout.splitlines()  # the API knows no dashboard
    assert "reports.web -> reports.analytics, reports.api" in completed.stdout.splitlines()
    assert "no import cycle" in completed.stdout


def test_a_cycle_and_a_read_side_import_of_the_write_side_fail(tmp_path, capsys):
    for folder in ("orchestration", "reports"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "orchestration" / "a.py").write_text("from orchestration import b\n")
    (tmp_path / "orchestration" / "b.py").write_text("def later():\n    from orchestration.a import x\n")
    (tmp_path / "reports" / "r.py").write_text("import orchestration.a\n")
    assert import_graph.main(["--root", str(tmp_path)]) == 1
    errors = capsys.readouterr().err
    assert "import cycle: orchestration.a <-> orchestration.b" in errors
    assert "reports.r imports orchestration.a" in errors


def test_two_packages_importing_each_other_fail_even_without_a_module_cycle(tmp_path, capsys):
    """reports.api.app -> reports.web.routes and reports.web.pages -> reports.api.tokens: no module cycle, but the
    two packages depend on each other. A subpackage using its parent's modules is no such cycle."""
    for folder in ("orchestration", "reports", "reports/api", "reports/web"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "reports" / "common.py").write_text("")
    (tmp_path / "reports" / "api" / "app.py").write_text("from reports.web import routes\nfrom reports import common\n")
    (tmp_path / "reports" / "api" / "tokens.py").write_text("")
    (tmp_path / "reports" / "web" / "routes.py").write_text("")
    (tmp_path / "reports" / "web" / "pages.py").write_text("from reports.api import tokens\n")
    assert import_graph.main(["--root", str(tmp_path)]) == 1
    errors = capsys.readouterr().err
    assert errors.strip() == "error: package import cycle: reports.api <-> reports.web"
    (tmp_path / "reports" / "web" / "pages.py").write_text("from reports import common\n")
    assert import_graph.main(["--root", str(tmp_path)]) == 0


def test_building_the_command_line_does_not_import_the_sample_generator():
    """Every command pays for what the CLI imports to build its parser; the generator is only for two commands."""
    probe = (
        "import sys\n"
        "from orchestration import cli\n"
        "try:\n"
        "    cli.main(['generate-sample', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(name for name in sys.modules if name.startswith('orchestration.sample.')))\n"
    )
    completed = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert "--transcript-user-share" in completed.stdout  # the parser was built
    assert completed.stdout.strip().splitlines()[-1] == "[]"
