"""The SAM template: lint-clean, and wired the way the architecture says.

Assertions read the template as CloudFormation will run it: the SAM transform is applied with
aws-sam-translator (what `sam deploy` and CloudFormation do), so routes, authorizers, event sources
and roles are checked in their final form, and cfn-lint checks both the source and the result
(circular dependencies only show up in the result). Everything runs offline.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import cfnlint.api
import pytest
from botocore.config import Config
from cfnlint.decode import cfn_yaml
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from photosync.adapters.objectstore.s3 import S3ObjectStore
from photosync.config import load_settings

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "infra" / "template.yaml"
API_DOC = REPO.parent / "shared" / "docs" / "api.md"
LINT_REGIONS = ["us-east-1"]

# Every route of docs/api.md except the local-only /auth/... ones, and the function serving it.
EXPECTED_ROUTES = {
    ("GET", "/healthz"): "AccountFunction",
    ("GET", "/openapi.json"): "AccountFunction",
    ("GET", "/me"): "AccountFunction",
    ("POST", "/photos/lookup"): "AccountFunction",
    ("POST", "/uploads"): "RequestUploadFunction",
    ("POST", "/uploads/batch"): "RequestUploadFunction",
    ("GET", "/uploads/{upload_id}"): "RequestUploadFunction",
    ("DELETE", "/uploads/{upload_id}"): "RequestUploadFunction",
    ("POST", "/uploads/{upload_id}/parts"): "RequestUploadFunction",
    ("GET", "/uploads/{upload_id}/parts"): "RequestUploadFunction",
    ("POST", "/uploads/{upload_id}/complete"): "RequestUploadFunction",
    ("GET", "/photos"): "GalleryFunction",
    ("GET", "/photos/{photo_id}"): "GalleryFunction",
    ("GET", "/photos/{photo_id}/download"): "DownloadFunction",
    ("DELETE", "/photos/{photo_id}"): "DeleteFunction",
    ("POST", "/albums"): "AlbumsFunction",
    ("GET", "/albums"): "AlbumsFunction",
    ("GET", "/albums/{album_id}"): "AlbumsFunction",
    ("PATCH", "/albums/{album_id}"): "AlbumsFunction",
    ("DELETE", "/albums/{album_id}"): "AlbumsFunction",
    ("POST", "/albums/{album_id}/photos"): "AlbumsFunction",
    ("DELETE", "/albums/{album_id}/photos/{photo_id}"): "AlbumsFunction",
    ("POST", "/albums/{album_id}/members"): "AlbumsFunction",
    ("GET", "/albums/{album_id}/members"): "AlbumsFunction",
    ("PATCH", "/albums/{album_id}/members/{member_id}"): "AlbumsFunction",
    ("DELETE", "/albums/{album_id}/members/{member_id}"): "AlbumsFunction",
    ("POST", "/albums/{album_id}/links"): "AlbumsFunction",
    ("GET", "/albums/{album_id}/links"): "AlbumsFunction",
    ("DELETE", "/albums/{album_id}/links/{link_id}"): "AlbumsFunction",
    ("GET", "/public/{token}"): "PublicFunction",
    ("GET", "/public/{token}/photos/{photo_id}/download"): "PublicFunction",
    ("GET", "/trash"): "TrashFunction",
    ("POST", "/trash/restore"): "TrashFunction",
    ("DELETE", "/trash/{photo_id}"): "TrashFunction",
    ("POST", "/trash/empty"): "TrashFunction",
    ("GET", "/sync"): "SyncFunction",
}
# Exactly these routes skip the JWT authorizer: health, the contract, and public album links (whose
# token is the credential). Every other route, the sharing ones included, keeps it.
PUBLIC_ROUTES = {
    ("GET", "/healthz"), ("GET", "/openapi.json"),
    ("GET", "/public/{token}"), ("GET", "/public/{token}/photos/{photo_id}/download"),
}

EXPECTED_HANDLERS = {
    "RequestUploadFunction": "photosync.handlers.http.uploads.handler",
    "GalleryFunction": "photosync.handlers.http.gallery.handler",
    "DownloadFunction": "photosync.handlers.http.download.handler",
    "DeleteFunction": "photosync.handlers.http.delete.handler",
    "AlbumsFunction": "photosync.handlers.http.albums.handler",
    "TrashFunction": "photosync.handlers.http.trash.handler",
    "SyncFunction": "photosync.handlers.http.sync.handler",
    "AccountFunction": "photosync.handlers.http.account.handler",
    "PublicFunction": "photosync.handlers.http.public.handler",
    "FinalizeFunction": "photosync.handlers.finalize.handler",
    "RenditionsFunction": "photosync.handlers.renditions.handler",
    "CleanupFunction": "photosync.handlers.cleanup.handler",
    "PostConfirmationFunction": "photosync.handlers.post_confirmation.handler",
    "MigrateFunction": "photosync.handlers.migrate.handler",
}

OBJECT_PREFIXES = ("originals/*", "thumbnails/*", "previews/*", "playback/*")
RENDITION_PREFIXES = ("thumbnails/*", "previews/*", "playback/*")
BUCKET = ""  # the bucket itself, for s3:ListBucket


def grants(actions: tuple[str, ...], prefixes: tuple[str, ...]) -> set[tuple[str, str]]:
    return {(action, prefix) for action in actions for prefix in prefixes}


# (action, object prefix) pairs each function may use; "" is the bucket itself. ListBucket only lets
# HeadObject of a missing key answer 404 instead of 403, which head() and cleanup rely on.
EXPECTED_S3_GRANTS = {
    # Cancelling an upload removes the bytes already sent (a multipart upload's parts too); a
    # multipart upload lists its parts, and complete tells an assembled upload from a gone one.
    "RequestUploadFunction": grants(
        ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:GetObject"),
        ("originals/*",),
    ),
    "GalleryFunction": grants(("s3:GetObject",), RENDITION_PREFIXES),
    "DownloadFunction": grants(("s3:GetObject",), ("originals/*",)),
    # Moving to the trash touches no object; deleting from the trash removes them.
    "DeleteFunction": set(),
    "TrashFunction": grants(("s3:GetObject",), RENDITION_PREFIXES) | grants(("s3:DeleteObject",), OBJECT_PREFIXES),
    # Finalize reads an original's header and rejects it or not; it makes no renditions.
    "FinalizeFunction": grants(("s3:GetObject", "s3:DeleteObject"), ("originals/*",)) | {("s3:ListBucket", BUCKET)},
    # Renditions of a photo deleted meanwhile are removed again.
    "RenditionsFunction": grants(("s3:GetObject",), ("originals/*",))
    | grants(("s3:PutObject", "s3:DeleteObject"), RENDITION_PREFIXES),
    "CleanupFunction": grants(("s3:GetObject", "s3:DeleteObject"), OBJECT_PREFIXES)
    | grants(("s3:PutObject",), RENDITION_PREFIXES)
    | grants(("s3:AbortMultipartUpload",), ("originals/*",))
    | {("s3:ListBucket", BUCKET)},
    "SyncFunction": grants(("s3:GetObject",), RENDITION_PREFIXES),
    "AlbumsFunction": set(),
    # A public link's page signs thumbnails and previews, and downloads when the link allows them (no
    # playback copies: it shows none).
    "PublicFunction": grants(("s3:GetObject",), ("originals/*", "thumbnails/*", "previews/*")),
    "AccountFunction": set(),
    "PostConfirmationFunction": set(),
    "MigrateFunction": set(),
}
BUCKET_ARN = "arn:${AWS::Partition}:s3:::${AWS::StackName}-photos-${AWS::AccountId}"


def plain(value: Any) -> Any:
    """cfn-lint's YAML nodes as plain dicts and lists (short tags become Ref / Fn::*)."""
    return json.loads(json.dumps(value))


@pytest.fixture(scope="module")
def source() -> dict[str, Any]:
    return plain(cfn_yaml.load(str(TEMPLATE)))


@pytest.fixture(scope="module")
def deployed(source: dict[str, Any]) -> dict[str, Any]:
    """The template after the SAM transform, with the local code paths packaged as `sam deploy` does."""
    template = json.loads(json.dumps(source))
    template["Globals"]["Function"]["CodeUri"] = "s3://artifacts/photosync-code.zip"
    template["Resources"]["DependenciesLayer"]["Properties"]["ContentUri"] = "s3://artifacts/deps.zip"
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name="us-east-1"))
    return translator.translate(template, parameter_values={}, get_managed_policy_map=dict)


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def functions(deployed: dict[str, Any]) -> dict[str, Any]:
    return resources_of_type(deployed, "AWS::Lambda::Function")


def function_statements(deployed: dict[str, Any], function: str) -> list[dict[str, Any]]:
    role_name = functions(deployed)[function]["Properties"]["Role"]["Fn::GetAtt"][0]
    role = deployed["Resources"][role_name]["Properties"]
    return [
        statement
        for policy in role.get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def lint_messages(template_text: str) -> list[str]:
    return [
        f"{match.rule.id} {match.message} (line {match.linenumber})"
        for match in cfnlint.api.lint(template_text, regions=LINT_REGIONS)
    ]


def test_cfn_lint_finds_nothing_in_the_sam_template() -> None:
    assert lint_messages(TEMPLATE.read_text()) == []


def test_cfn_lint_finds_nothing_in_the_transformed_template(deployed: dict[str, Any]) -> None:
    assert lint_messages(json.dumps(deployed)) == []


# Routes of api.md that no function serves yet, each with the open issue that adds it: a route the
# contract gains without an issue taking it on fails the test below.
NOT_YET_SERVED: dict[tuple[str, str], str] = {}


def test_the_expected_routes_are_the_api_routes_of_api_md_less_those_an_open_issue_adds() -> None:
    documented = {
        (method, re.sub(r"\{[^}]+\}", "{}", path))
        for method, path in re.findall(
            r"`(GET|POST|PUT|PATCH|DELETE) (/[^`?\s]*)", API_DOC.read_text(encoding="utf-8")
        )
        if not path.startswith("/auth/")
    }
    expected = {(method, re.sub(r"\{[^}]+\}", "{}", path)) for method, path in EXPECTED_ROUTES}
    assert not expected & set(NOT_YET_SERVED), "a served route is still listed as not yet served"
    assert expected | set(NOT_YET_SERVED) == documented


def test_every_route_exists_with_its_function_and_the_jwt_authorizer(deployed: dict[str, Any]) -> None:
    paths = deployed["Resources"]["HttpApi"]["Properties"]["Body"]["paths"]
    routes = {
        (method.upper(), path): operation
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    assert set(routes) == set(EXPECTED_ROUTES)
    for route, operation in routes.items():
        uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        assert f"${{{EXPECTED_ROUTES[route]}.Arn}}" in uri, route
        expected_security = [{"NONE": []}] if route in PUBLIC_ROUTES else [{"CognitoJwt": ["openid"]}]
        assert operation["security"] == expected_security, route


def test_no_catch_all_route(deployed: dict[str, Any], source: dict[str, Any]) -> None:
    paths = deployed["Resources"]["HttpApi"]["Properties"]["Body"]["paths"]
    assert not [p for p in paths if "$default" in p or "+}" in p]
    assert not [op for ops in paths.values() for op in ops if op == "x-amazon-apigateway-any-method"]
    assert not resources_of_type(deployed, "AWS::ApiGatewayV2::Route")
    for function in resources_of_type(source, "AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                assert event["Properties"]["Method"] != "ANY"


def test_the_authorizer_trusts_the_user_pool_and_its_client_only(deployed: dict[str, Any]) -> None:
    body = deployed["Resources"]["HttpApi"]["Properties"]["Body"]
    authorizer = body["components"]["securitySchemes"]["CognitoJwt"]["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "jwt"
    assert authorizer["identitySource"] == "$request.header.Authorization"
    assert authorizer["jwtConfiguration"] == {
        "issuer": {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"},
        "audience": [{"Ref": "UserPoolClient"}],
    }


def test_api_cors_allows_the_configured_origins_only(deployed: dict[str, Any]) -> None:
    cors = deployed["Resources"]["HttpApi"]["Properties"]["Body"]["x-amazon-apigateway-cors"]
    assert cors["allowOrigins"] == {"Ref": "AllowedOrigins"}
    assert {"authorization", "content-type"} <= {h.lower() for h in cors["allowHeaders"]}
    assert {method for method, _ in EXPECTED_ROUTES} <= set(cors["allowMethods"])


def test_functions_run_the_expected_handlers(deployed: dict[str, Any]) -> None:
    handlers = {name: fn["Properties"]["Handler"] for name, fn in functions(deployed).items()}
    assert handlers == EXPECTED_HANDLERS


def test_every_function_runs_in_the_private_subnets(deployed: dict[str, Any]) -> None:
    for name, function in functions(deployed).items():
        assert function["Properties"]["VpcConfig"] == {
            "SubnetIds": [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}],
            "SecurityGroupIds": [{"Ref": "FunctionSecurityGroup"}],
        }, name


def test_the_network_has_no_internet_path(deployed: dict[str, Any]) -> None:
    for resource_type in (
        "AWS::EC2::InternetGateway",
        "AWS::EC2::NatGateway",
        "AWS::EC2::Route",
        "AWS::EC2::EgressOnlyInternetGateway",
    ):
        assert not resources_of_type(deployed, resource_type), resource_type
    subnets = resources_of_type(deployed, "AWS::EC2::Subnet")
    assert set(subnets) == {"PrivateSubnetA", "PrivateSubnetB"}
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())
    associations = resources_of_type(deployed, "AWS::EC2::SubnetRouteTableAssociation").values()
    assert {a["Properties"]["SubnetId"]["Ref"] for a in associations} == set(subnets)
    assert {a["Properties"]["RouteTableId"]["Ref"] for a in associations} == {"PrivateRouteTable"}
    endpoints = {
        e["Properties"]["ServiceName"]["Fn::Sub"]: e["Properties"]
        for e in resources_of_type(deployed, "AWS::EC2::VPCEndpoint").values()
    }
    s3 = endpoints["com.amazonaws.${AWS::Region}.s3"]
    assert s3["VpcEndpointType"] == "Gateway"
    assert s3["RouteTableIds"] == [{"Ref": "PrivateRouteTable"}]
    for service in ("secretsmanager", "sqs"):
        interface = endpoints[f"com.amazonaws.${{AWS::Region}}.{service}"]
        assert interface["VpcEndpointType"] == "Interface", service
        assert interface["PrivateDnsEnabled"] is True, service


def ingress_rules(template: dict[str, Any], group: str) -> list[dict[str, Any]]:
    inline = template["Resources"][group]["Properties"].get("SecurityGroupIngress", [])
    separate = [
        r["Properties"]
        for r in resources_of_type(template, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == {"Ref": group}
    ]
    return inline + separate


def test_postgres_is_reachable_only_functions_to_proxy_to_database(deployed: dict[str, Any]) -> None:
    def postgres_from(source_group: str) -> dict[str, Any]:
        return {
            "IpProtocol": "tcp",
            "FromPort": 5432,
            "ToPort": 5432,
            "SourceSecurityGroupId": {"Ref": source_group},
        }

    def without_description(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{k: v for k, v in rule.items() if k != "Description"} for rule in rules]

    assert without_description(ingress_rules(deployed, "DatabaseSecurityGroup")) == [
        postgres_from("ProxySecurityGroup")
    ]
    assert without_description(ingress_rules(deployed, "ProxySecurityGroup")) == [
        postgres_from("FunctionSecurityGroup")
    ]
    assert ingress_rules(deployed, "FunctionSecurityGroup") == []
    database = deployed["Resources"]["Database"]["Properties"]
    assert database["VPCSecurityGroups"] == [{"Ref": "DatabaseSecurityGroup"}]
    proxy = deployed["Resources"]["DatabaseProxy"]["Properties"]
    assert proxy["VpcSecurityGroupIds"] == [{"Ref": "ProxySecurityGroup"}]


def test_the_database_is_private_encrypted_and_behind_the_proxy(deployed: dict[str, Any]) -> None:
    database = deployed["Resources"]["Database"]
    assert database["Properties"]["StorageEncrypted"] is True
    assert database["Properties"]["PubliclyAccessible"] is False
    assert database["DeletionPolicy"] == "Snapshot"
    assert "DatabaseSecret" in database["Properties"]["MasterUserPassword"]["Fn::Sub"]
    secret = deployed["Resources"]["DatabaseSecret"]["Properties"]["GenerateSecretString"]
    assert secret["GenerateStringKey"] == "password"
    proxy = deployed["Resources"]["DatabaseProxy"]["Properties"]
    assert proxy["RequireTLS"] is True
    assert proxy["Auth"] == [
        {"AuthScheme": "SECRETS", "SecretArn": {"Ref": "DatabaseSecret"}, "IAMAuth": "DISABLED"}
    ]
    target = deployed["Resources"]["DatabaseProxyTargetGroup"]["Properties"]
    assert target["DBInstanceIdentifiers"] == [{"Ref": "Database"}]
    for function in functions(deployed).values():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["PHOTOSYNC_DB_HOST"] == {"Fn::GetAtt": ["DatabaseProxy", "Endpoint"]}
        assert variables["PHOTOSYNC_DB_SECRET_ARN"] == {"Ref": "DatabaseSecret"}


def test_migrations_run_at_deploy_through_the_migrate_function(deployed: dict[str, Any]) -> None:
    migrations = deployed["Resources"]["DatabaseMigrations"]
    assert migrations["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["MigrateFunction", "Arn"]}
    assert "DatabaseProxyTargetGroup" in migrations["DependsOn"]
    assert "SecretsManagerEndpoint" in migrations["DependsOn"]
    # The reference to the published version changes with the code: each deploy re-runs them.
    version = migrations["Properties"]["CodeVersion"]["Ref"]
    assert deployed["Resources"][version]["Type"] == "AWS::Lambda::Version"


def test_uploads_to_originals_trigger_finalize(deployed: dict[str, Any]) -> None:
    bucket = deployed["Resources"]["PhotoBucket"]["Properties"]
    assert bucket["NotificationConfiguration"] == {
        "LambdaConfigurations": [
            {
                "Event": "s3:ObjectCreated:*",
                "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "originals/"}]}},
                "Function": {"Fn::GetAtt": ["FinalizeFunction", "Arn"]},
            }
        ]
    }
    permissions = [
        p["Properties"]
        for p in resources_of_type(deployed, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "s3.amazonaws.com"
    ]
    assert [p["FunctionName"] for p in permissions] == [{"Ref": "FinalizeFunction"}]


def sqs_actions(deployed: dict[str, Any], function: str) -> dict[str, set[str]]:
    """The SQS actions a function's role allows, by the logical id of the queue they name."""
    allowed: dict[str, set[str]] = {}
    for statement in function_statements(deployed, function):
        actions = {a for a in as_list(statement["Action"]) if a.startswith("sqs:")}
        if not actions:
            continue
        assert statement["Effect"] == "Allow"
        for resource in as_list(statement["Resource"]):
            assert resource["Fn::GetAtt"][1] == "Arn", (function, resource)
            allowed.setdefault(resource["Fn::GetAtt"][0], set()).update(actions)
    return allowed


def test_finalize_queues_renditions_for_the_renditions_function_to_consume(deployed: dict[str, Any]) -> None:
    resources = deployed["Resources"]
    queue = resources["RenditionsQueue"]["Properties"]
    # A message failing three deliveries goes to the dead-letter queue (its depth alarm is checked
    # with the other dead-letter queues), after a visibility timeout covering six function timeouts.
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["RenditionsDeadLetterQueue", "Arn"]}, "maxReceiveCount": 3
    }
    timeout = functions(deployed)["RenditionsFunction"]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout
    [mapping] = resources_of_type(deployed, "AWS::Lambda::EventSourceMapping").values()
    assert mapping["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["RenditionsQueue", "Arn"]}
    assert mapping["Properties"]["FunctionName"] == {"Ref": "RenditionsFunction"}
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # Who may do what with the queues: finalize and the sweep send, the renditions function
    # consumes; each asynchronously invoked function also sends to its own dead-letter queue.
    expected = {
        "FinalizeFunction": {"RenditionsQueue": {"sqs:SendMessage"}, "FinalizeDeadLetterQueue": {"sqs:SendMessage"}},
        "CleanupFunction": {"RenditionsQueue": {"sqs:SendMessage"}, "CleanupDeadLetterQueue": {"sqs:SendMessage"}},
        "MigrateFunction": {"MigrateDeadLetterQueue": {"sqs:SendMessage"}},
        "RenditionsFunction": {
            "RenditionsQueue": {
                "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"
            }
        },
    }
    for function in functions(deployed):
        assert sqs_actions(deployed, function) == expected.get(function, {}), function
    # No role gets the managed SQS policy (it allows every queue).
    for role in resources_of_type(deployed, "AWS::IAM::Role").values():
        assert not any("SQS" in json.dumps(arn) for arn in role["Properties"].get("ManagedPolicyArns", []))
    for function in ("FinalizeFunction", "CleanupFunction"):
        variables = functions(deployed)[function]["Properties"]["Environment"]["Variables"]
        assert variables["PHOTOSYNC_RENDITIONS_QUEUE_URL"] == {"Ref": "RenditionsQueue"}, function


def test_cleanup_runs_every_15_minutes(deployed: dict[str, Any]) -> None:
    rules = [r["Properties"] for r in resources_of_type(deployed, "AWS::Events::Rule").values()]
    assert len(rules) == 1
    assert rules[0]["ScheduleExpression"] == "rate(15 minutes)"
    assert rules[0]["State"] == "ENABLED"
    assert [t["Arn"] for t in rules[0]["Targets"]] == [{"Fn::GetAtt": ["CleanupFunction", "Arn"]}]


def test_cognito_federates_google_and_triggers_post_confirmation(deployed: dict[str, Any]) -> None:
    resources = deployed["Resources"]
    pool = resources["UserPool"]["Properties"]
    assert pool["LambdaConfig"] == {"PostConfirmation": {"Fn::GetAtt": ["PostConfirmationFunction", "Arn"]}}
    permission = resources["PostConfirmationInvokePermission"]["Properties"]
    assert permission["Principal"] == "cognito-idp.amazonaws.com"
    assert permission["FunctionName"] == {"Fn::GetAtt": ["PostConfirmationFunction", "Arn"]}
    assert permission["SourceArn"] == {"Fn::GetAtt": ["UserPool", "Arn"]}

    google = resources["GoogleIdentityProvider"]["Properties"]
    assert google["ProviderType"] == "Google"
    assert google["ProviderDetails"]["client_secret"] == {"Ref": "GoogleClientSecret"}
    assert google["AttributeMapping"]["email"] == "email"
    assert deployed["Parameters"]["GoogleClientSecret"]["NoEcho"] is True

    client = resources["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert sorted(client["AllowedOAuthScopes"]) == ["email", "openid", "profile"]
    assert client["SupportedIdentityProviders"] == ["Google"]
    assert client["CallbackURLs"] == {"Ref": "CallbackUrls"}
    assert client["LogoutURLs"] == {"Ref": "LogoutUrls"}
    assert resources["UserPoolDomain"]["Properties"]["Domain"] == {"Ref": "HostedUiDomainPrefix"}


def test_s3_grants_are_least_privilege_per_function(deployed: dict[str, Any]) -> None:
    for function in functions(deployed):
        granted: set[tuple[str, str]] = set()
        for statement in function_statements(deployed, function):
            actions = [a for a in as_list(statement["Action"]) if a.startswith("s3:")]
            if not actions:
                continue
            assert statement["Effect"] == "Allow"
            for resource in as_list(statement["Resource"]):
                arn = resource["Fn::Sub"]
                assert arn == BUCKET_ARN or arn.startswith(BUCKET_ARN + "/"), arn
                granted |= {(action, arn[len(BUCKET_ARN) + 1 :]) for action in actions}
        assert granted == EXPECTED_S3_GRANTS[function], function


def test_no_wildcard_s3_permission_anywhere(deployed: dict[str, Any]) -> None:
    for role in resources_of_type(deployed, "AWS::IAM::Role").values():
        assert not any("S3" in arn for arn in role["Properties"].get("ManagedPolicyArns", []))
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = as_list(statement["Action"])
                if statement["Effect"] != "Allow" or not any(a.startswith("s3") or a == "*" for a in actions):
                    continue
                assert not any(a in ("*", "s3:*") or a.endswith("*") for a in actions), statement
                assert "*" not in as_list(statement["Resource"]), statement


def test_functions_read_only_the_database_secret(deployed: dict[str, Any]) -> None:
    for function in functions(deployed):
        secret_statements = [
            s
            for s in function_statements(deployed, function)
            if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))
        ]
        assert secret_statements == [
            {
                "Sid": "ReadDatabaseSecret",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": {"Ref": "DatabaseSecret"},
            }
        ], function


def test_the_bucket_is_private_encrypted_and_accepts_browser_uploads(deployed: dict[str, Any]) -> None:
    bucket = deployed["Resources"]["PhotoBucket"]["Properties"]
    assert bucket["BucketName"] == {"Fn::Sub": "${AWS::StackName}-photos-${AWS::AccountId}"}
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    encryption = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    [abort] = [r for r in bucket["LifecycleConfiguration"]["Rules"] if "AbortIncompleteMultipartUpload" in r]
    assert 1 <= abort["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] <= 7
    assert abort["Status"] == "Enabled"

    [cors] = bucket["CorsConfiguration"]["CorsRules"]
    assert cors["AllowedOrigins"] == {"Ref": "AllowedOrigins"}
    assert set(cors["AllowedMethods"]) == {"PUT", "GET", "HEAD"}
    # The browser sends exactly the headers of an upload grant: each must pass the preflight.
    signing_client = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="k",
        aws_secret_access_key="s",
        config=Config(signature_version="s3v4"),
    )
    grant = S3ObjectStore("b", region="us-east-1", client=signing_client).presign_upload(
        "originals/u/x", size=10, sha256="ab" * 32, content_type="image/jpeg", expires_in=60
    )
    assert {name.lower() for name in grant.headers} <= {h.lower() for h in cors["AllowedHeaders"]}
    assert "content-disposition" in {h.lower() for h in cors["ExposedHeaders"]}


def function_settings(deployed: dict[str, Any], function: dict[str, Any]):
    variables = function["Properties"]["Environment"]["Variables"]
    env = {
        key: str(deployed["Parameters"][value["Ref"]]["Default"])
        if isinstance(value, dict) and value.get("Ref") in deployed["Parameters"]
        else value if isinstance(value, str) else f"sample-{key.lower()}"
        for key, value in variables.items()
    }
    return load_settings({**env, "AWS_REGION": "eu-west-1"})


def test_function_environment_is_what_the_settings_read(deployed: dict[str, Any]) -> None:
    for name, function in functions(deployed).items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["PHOTOSYNC_MODE"] == "aws"
        assert variables["PHOTOSYNC_STORE"] == "s3"
        assert variables["PHOTOSYNC_S3_BUCKET"] == deployed["Resources"]["PhotoBucket"]["Properties"]["BucketName"]
        for parameter, variable in (
            ("DatabaseConnectTimeoutSeconds", "PHOTOSYNC_DB_CONNECT_TIMEOUT_SECONDS"),
            ("DefaultQuotaBytes", "PHOTOSYNC_DEFAULT_QUOTA_BYTES"),
            ("MaxUploadBytes", "PHOTOSYNC_MAX_UPLOAD_BYTES"),
            ("UploadUrlTtlSeconds", "PHOTOSYNC_UPLOAD_URL_TTL_SECONDS"),
            ("PendingTtlSeconds", "PHOTOSYNC_PENDING_TTL_SECONDS"),
            ("TrashRetentionDays", "PHOTOSYNC_TRASH_RETENTION_DAYS"),
            ("MaxTranscodeSeconds", "PHOTOSYNC_MAX_TRANSCODE_SECONDS"),
        ):
            assert variables[variable] == {"Ref": parameter}, (name, variable)
        # With the parameter defaults and sample values for the resource references, the settings
        # load: the names are the ones config.py reads, and the defaults are consistent.
        settings = function_settings(deployed, function)
        assert settings.mode == "aws" and settings.store == "s3"
        assert settings.database_secret_arn and settings.database_host
        assert settings.upload_url_ttl_seconds == 900
        assert settings.trash_retention_days == 30
        assert settings.max_transcode_seconds == 300
        assert variables["POWERTOOLS_SERVICE_NAME"] == "photosync"


def test_every_function_logs_to_its_own_group_with_retention(deployed: dict[str, Any]) -> None:
    groups = {
        name: group
        for name, group in resources_of_type(deployed, "AWS::Logs::LogGroup").items()
        if group["Properties"]["LogGroupName"]["Fn::Sub"].startswith("/aws/lambda/")
    }
    used = []
    for name, function in functions(deployed).items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
        used.append(group)
    assert len(set(used)) == len(used) == len(groups)


def test_outputs_name_what_the_clients_need(deployed: dict[str, Any]) -> None:
    assert {"ApiUrl", "UserPoolId", "UserPoolClientId", "HostedUiDomain", "PhotoBucket"} <= set(
        deployed["Outputs"]
    )


# Beyond opening its connection, the least time a function needs for its own work (a Secrets
# Manager read, a statement or two). A function whose timeout leaves less than this fails while a
# slow database is still connecting, as the 5-second post-confirmation trigger did with a 10-second
# connect timeout: the user's first sign-in failed.
DATABASE_WORK_SECONDS = 1


def test_every_database_function_outlasts_its_database_connect_timeout(deployed: dict[str, Any]) -> None:
    database_functions = {
        name: function for name, function in functions(deployed).items()
        if "PHOTOSYNC_DB_HOST" in function["Properties"]["Environment"]["Variables"]
    }
    assert set(database_functions) == set(EXPECTED_HANDLERS)
    # Checked at the longest connect timeout the stack parameter allows, not only at its default.
    longest_connect = deployed["Parameters"]["DatabaseConnectTimeoutSeconds"]["MaxValue"]
    for name, function in database_functions.items():
        assert function_settings(deployed, function).database_connect_timeout_seconds <= longest_connect
        assert function["Properties"]["Timeout"] >= longest_connect + DATABASE_WORK_SECONDS, name
    # Cognito waits 5 seconds for a trigger, whatever the function's own timeout says.
    assert database_functions["PostConfirmationFunction"]["Properties"]["Timeout"] <= 5


def test_the_web_client_s_policy_allows_exactly_its_own_origins(deployed: dict[str, Any], monkeypatch) -> None:
    [policy] = resources_of_type(deployed, "AWS::CloudFront::ResponseHeadersPolicy").values()
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    template, variables = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    directives = {name: values for name, *values in (part.split() for part in template.split(";") if part.strip())}
    # WebAssembly (hash-wasm's SHA-256) may be compiled; no eval, no inline script.
    assert directives["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'", "${Api}", "${HostedUi}", "${Bucket}"]
    assert directives["img-src"][:2] == directives["media-src"][:2] == ["'self'", "${Bucket}"]
    assert directives["frame-ancestors"] == directives["object-src"] == directives["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in template and "'unsafe-eval'" not in template
    # The bucket's origin is the one browsers reach it at: the host of the store's pre-signed URLs.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    origin = S3ObjectStore("stack-photos-123456789012", region="eu-west-1").browser_origin()
    assert origin == "https://stack-photos-123456789012.s3.eu-west-1.amazonaws.com"
    assert variables["Bucket"] == {"Fn::Sub": "https://${AWS::StackName}-photos-${AWS::AccountId}.s3.${AWS::Region}.${AWS::URLSuffix}"}
    assert variables["Api"] == deployed["Outputs"]["ApiUrl"]["Value"]
    assert deployed["Outputs"]["WebSecurityHeadersPolicyId"]["Value"] == {"Ref": next(iter(resources_of_type(deployed, "AWS::CloudFront::ResponseHeadersPolicy")))}
