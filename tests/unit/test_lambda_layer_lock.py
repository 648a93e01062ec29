"""The Lambda layer is built from a lock: infra/dependencies/requirements.txt pins every package the
functions import, and everything those need, to one exact version (boto3 and botocore included, since
S3 signing depends on botocore's version), for the runtime and architecture the SAM template runs."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from cfnlint.decode import cfn_yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
DEPENDENCIES = REPO / "infra" / "dependencies"
TEMPLATE = REPO / "infra" / "template.yaml"
PINNED = re.compile(r"(?P<name>[a-z0-9-]+)(?:\[(?P<extras>[a-z0-9,-]+)\])?==(?P<version>[0-9][0-9a-z.+]*)")
# The environment markers of the functions' runtime: CPython 3.12 on arm64 Linux.
LAMBDA_MARKERS = {
    **default_environment(),
    "python_version": "3.12", "python_full_version": "3.12.0", "implementation_name": "cpython",
    "platform_python_implementation": "CPython", "sys_platform": "linux", "platform_system": "Linux",
    "os_name": "posix", "platform_machine": "aarch64",
}


def requirement_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def lock() -> dict[str, tuple[Version, set[str]]]:
    pins = {}
    for line in requirement_lines(DEPENDENCIES / "requirements.txt"):
        match = PINNED.fullmatch(line)
        assert match, f"not an exact pin: {line!r}"
        name = canonicalize_name(match["name"])
        assert name not in pins, f"{name} is pinned twice"
        pins[name] = (Version(match["version"]), set(filter(None, (match["extras"] or "").split(","))))
    return pins


def direct_requirements() -> list[Requirement]:
    return [Requirement(line) for line in requirement_lines(DEPENDENCIES / "requirements.in")]


def test_every_line_of_the_lock_is_an_exact_pin():
    assert len(lock()) >= len(direct_requirements())


def test_the_lock_pins_every_direct_dependency_within_its_range():
    pins = lock()
    for requirement in direct_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in the lock"
        version, extras = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (name, version, requirement.specifier)
        assert requirement.extras <= extras, (name, requirement.extras, extras)


def test_boto3_and_botocore_are_in_the_layer():
    assert {"boto3", "botocore", "s3transfer"} <= set(lock())


def test_everything_the_pinned_packages_need_is_pinned_too():
    """The closure, read from each package's own metadata (as installed here) for the Lambda runtime."""
    pins = lock()
    for name, (_, extras) in pins.items():
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            pytest.fail(f"{name} is locked but not installed here, so its needs cannot be checked")
        for line in requires:
            needed = Requirement(line)
            applies = needed.marker is None or any(
                needed.marker.evaluate({**LAMBDA_MARKERS, "extra": extra}) for extra in ("", *extras)
            )
            if applies:
                assert canonicalize_name(needed.name) in pins, f"{name} needs {needed}, which the lock lacks"


def test_the_lambda_functions_need_nothing_the_package_does_not_install():
    """`photosync serve` runs the same handlers, so the package depends on what the layer holds."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    installed = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    assert {canonicalize_name(r.name) for r in direct_requirements()} <= installed


def test_the_sam_template_builds_the_layer_from_the_lock_for_the_functions_runtime():
    template = cfn_yaml.load(str(TEMPLATE))
    layers = {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::LayerVersion"}
    assert list(layers) == ["DependenciesLayer"]
    layer = layers["DependenciesLayer"]
    # sam build installs the requirements.txt of the layer's ContentUri with the BuildMethod's pip.
    assert (TEMPLATE.parent / layer["Properties"]["ContentUri"]).resolve() == DEPENDENCIES
    globals_ = template["Globals"]["Function"]
    assert layer["Metadata"]["BuildMethod"] == globals_["Runtime"] == "python3.12"
    assert [layer["Metadata"]["BuildArchitecture"]] == globals_["Architectures"] == ["arm64"]
    assert {"Ref": "DependenciesLayer"} in globals_["Layers"]
    header = (DEPENDENCIES / "requirements.txt").read_text().splitlines()[:3]
    assert any("CPython 3.12 on manylinux_2_28_aarch64" in line for line in header), header
    functions = [v for v in template["Resources"].values() if v["Type"] == "AWS::Serverless::Function"]
    assert functions and all("Layers" not in f["Properties"] and "Runtime" not in f["Properties"] for f in functions)
