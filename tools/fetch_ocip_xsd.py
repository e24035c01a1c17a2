"""Fetch the OCI-P R25 schema for the tests, and print the path of OCISchemaAS.xsd.

The schema ships in broadworks-ocip's source distribution (not its wheel), under
BroadSoft's copyright, so it is never committed: CI runs

    export ONENET_OCIP_XSD=$(python3 tools/fetch_ocip_xsd.py DIRECTORY)

which downloads the pinned version with pip into DIRECTORY (reused when it is
already there) and extracts only `ocip_schema/`.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

VERSION = "3.0.0"
SCHEMA = "OCISchemaAS.xsd"


def fetch(directory: Path) -> Path:
    top = f"broadworks_ocip-{VERSION}"
    target = directory / top / "ocip_schema" / SCHEMA
    if target.is_file():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",  # this package's sdist (the schema is not in its wheel);
            "broadworks-ocip",  # its build tools as wheels, which pip needs for its metadata
            f"broadworks-ocip=={VERSION}",
            "--dest",
            str(directory),
        ],
        check=True,
        stdout=subprocess.DEVNULL,  # stdout is for the path; errors still reach stderr
    )
    archive = next(directory.glob(f"{top}.tar.gz"))
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(f"{top}/ocip_schema/")]
        tar.extractall(directory, members=members, filter="data")
    if not target.is_file():
        raise SystemExit(f"{archive} holds no ocip_schema/{SCHEMA}")
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: fetch_ocip_xsd.py DIRECTORY")
    print(fetch(Path(sys.argv[1])).resolve())
