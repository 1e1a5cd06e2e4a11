"""`session-analytics-dbt`: the dbt that a refresh runs, as a child that dies with the refresh.

dagster-dbt runs dbt as a subprocess. A refresh killed with SIGKILL cannot stop it: the orphan kept writing the
working warehouse, and the next refresh failed on its lock. Given to `DbtCliResource` as its executable, this
asks the kernel to SIGKILL it when its parent dies (prctl PR_SET_PDEATHSIG, which an exec keeps), checks that
the parent has not died already (before the request was made), and then becomes the real dbt by exec: same pid,
same arguments, same output. Linux only; elsewhere it just execs dbt.

The death signal fires when the parent *thread* that started the child exits, not only the process: the dbt
asset starts dbt from the thread that also reads its output to the end, so that thread outlives dbt.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sys
from pathlib import Path

# The pid of the process that starts dbt, set by it: the parent this child must not outlive.
PARENT_PID_ENV = "SESSION_ANALYTICS_DBT_PARENT_PID"
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(parent_pid: int) -> None:
    """SIGKILL this process when `parent_pid` (its parent) dies; exit at once if it already has."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            error = ctypes.get_errno()
            raise OSError(error, f"prctl(PR_SET_PDEATHSIG): {os.strerror(error)}")
    if os.getppid() != parent_pid:
        # The parent died before the request: this process was already handed to another (init or a
        # subreaper), and nothing will ever read its output.
        os._exit(128 + signal.SIGKILL)


def real_dbt() -> str:
    """The dbt installed beside this interpreter (a virtualenv need not be activated), else the one on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    found = str(beside) if beside.exists() else shutil.which("dbt")
    if found is None:
        raise SystemExit("session-analytics-dbt: no dbt executable found beside Python or on PATH")
    return found


def main() -> None:
    parent = os.environ.get(PARENT_PID_ENV)
    die_with_parent(int(parent) if parent else os.getppid())
    dbt = real_dbt()
    os.execv(dbt, [dbt, *sys.argv[1:]])


if __name__ == "__main__":
    main()
