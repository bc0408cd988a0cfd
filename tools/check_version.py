#!/usr/bin/env python3
"""One version for every package of a release: fails (exit 1, naming each place) when any disagrees with
Cargo.toml's [workspace.package] version.

    python3 tools/check_version.py [--binary PATH/TO/trustcore] [--root DIR]

Places: every crate (version.workspace), the versioned path dependency on trustcore-core, the pyproject.toml
(the version is Cargo's, through maturin: no literal allowed), the npm main package, its lock and every
platform package under bindings-node/npm/, the napi loader's expected version (index.js), the CLI's npm
packages (cli/npm/package.json and every platform package beside it), the C header's
TRUSTCORE_VERSION_* macros, the Go package's PackageVersion and its compile-time check, and `trustcore --version`
of the binary given. Standard library only: it runs before anything is installed.
"""

import argparse
import json
import pathlib
import re
import subprocess
import sys


def read(root: pathlib.Path, rel: str) -> str:
    return (root / rel).read_text(encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=str(pathlib.Path(__file__).resolve().parent.parent))
    parser.add_argument("--binary", help="a trustcore binary whose --version must agree")
    args = parser.parse_args()
    root = pathlib.Path(args.root)
    problems: list[str] = []

    workspace = read(root, "Cargo.toml")
    package_table = re.search(r"^\[workspace\.package\]\n(.*?)(?=^\[)", workspace, re.S | re.M)
    found = package_table and re.search(r'^version = "([^"]+)"', package_table.group(1), re.M)
    if not found:
        print("Cargo.toml: no [workspace.package] version")
        return 1
    version = found.group(1)
    major, minor, patch = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", version).groups()  # type: ignore[union-attr]

    def expect(place: str, got: object, want: object) -> None:
        if got != want:
            problems.append(f"{place}: {got!r}, expected {want!r}")

    # every crate of the workspace takes the workspace's version
    members = re.search(r"^members = \[(.*?)\]", workspace, re.M | re.S)
    for member in re.findall(r'"([^"]+)"', members.group(1) if members else ""):
        manifest = read(root, f"{member}/Cargo.toml")
        expect(f"{member}/Cargo.toml version", "version.workspace = true" in manifest, True)
    core_dep = re.search(r'^trustcore-core = \{.*version = "=?([^"]+)"', workspace, re.M)
    expect("Cargo.toml [workspace.dependencies] trustcore-core version", core_dep and core_dep.group(1), version)

    pyproject = read(root, "bindings-python/pyproject.toml")
    expect("bindings-python/pyproject.toml dynamic version (from Cargo)", 'dynamic = ["version"]' in pyproject, True)
    expect("bindings-python/pyproject.toml literal version", re.search(r"^version\s*=", pyproject, re.M), None)

    node = json.loads(read(root, "bindings-node/package.json"))
    expect("bindings-node/package.json version", node["version"], version)
    lock = json.loads(read(root, "bindings-node/package-lock.json"))
    expect("bindings-node/package-lock.json version", lock["version"], version)
    expect('bindings-node/package-lock.json packages[""].version', lock["packages"][""]["version"], version)
    platforms = sorted((root / "bindings-node/npm").glob("*/package.json"))
    expect("bindings-node/npm/*/package.json (platform packages)", bool(platforms), True)
    for platform in platforms:
        expect(str(platform.relative_to(root)), json.loads(platform.read_text())["version"], version)
    cli_npm = json.loads(read(root, "cli/npm/package.json"))
    expect("cli/npm/package.json version", cli_npm["version"], version)
    cli_platforms = sorted((root / "cli/npm").glob("*/package.json"))
    expect("cli/npm/*/package.json (platform packages)", bool(cli_platforms), True)
    for platform in cli_platforms:
        expect(str(platform.relative_to(root)), json.loads(platform.read_text())["version"], version)
    loader_versions = set(re.findall(r"bindingPackageVersion !== '([^']+)'", read(root, "bindings-node/index.js")))
    expect("bindings-node/index.js expected binding version", loader_versions, {version})

    header = read(root, "include/trustcore.h")
    for part, want in (("MAJOR", major), ("MINOR", minor), ("PATCH", patch)):
        got = re.search(rf"^#define TRUSTCORE_VERSION_{part} (\d+)$", header, re.M)
        expect(f"include/trustcore.h TRUSTCORE_VERSION_{part}", got and got.group(1), want)
    got = re.search(r'^#define TRUSTCORE_VERSION "([^"]+)"$', header, re.M)
    expect("include/trustcore.h TRUSTCORE_VERSION", got and got.group(1), version)

    go = read(root, "bindings-go/trustcore/version.go")
    got = re.search(r'^const PackageVersion = "([^"]+)"$', go, re.M)
    expect("bindings-go/trustcore/version.go PackageVersion", got and got.group(1), version)
    got = re.search(
        r"TRUSTCORE_VERSION_MAJOR != (\d+) \|\| TRUSTCORE_VERSION_MINOR != (\d+) \|\| TRUSTCORE_VERSION_PATCH != (\d+)", go
    )
    expect("bindings-go/trustcore/version.go compile-time check", got and got.groups(), (major, minor, patch))

    if args.binary:
        out = subprocess.run([args.binary, "--version"], capture_output=True, text=True, check=False).stdout.strip()
        expect(f"{args.binary} --version", out, f"trustcore {version}")

    for problem in problems:
        print(f"version mismatch: {problem}")
    if problems:
        return 1
    print(f"check_version: every package says {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
