"""Make sure the browser tests have Debian's Chromium: install it with apt-get when running as root
(CI, a fresh machine), else say exactly what to run. Playwright drives it; it never downloads one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

CHROMIUM = "/usr/bin/chromium"


def main() -> int:
    if os.path.exists(CHROMIUM):
        return 0
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        print(f"The browser tests need Chromium at {CHROMIUM}: run `sudo apt-get install -y chromium`.", file=sys.stderr)
        return 1
    print("Installing Chromium for the browser tests (apt-get install chromium)...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"], check=True, env=env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
