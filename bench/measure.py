"""`python -m bench.measure RESULT.json COMMAND...`: run COMMAND, write its wall time and peak
memory to RESULT.json (`{"seconds", "peak_mb", "exit_code"}`).

A child's peak resident set as the kernel reports it (`ru_maxrss`) starts from its parent's
at fork and exec, so a big parent (one that has just generated the month) would inflate it.
This launcher imports only the standard library and stays near 10 MB, which keeps the figure
to the child's own peak.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time


def main() -> None:
    result, command = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    child = subprocess.Popen(command)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    with open(result, "w") as out:
        # Linux counts ru_maxrss in KiB.
        json.dump(
            {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "exit_code": child.returncode},
            out,
        )


if __name__ == "__main__":
    main()
