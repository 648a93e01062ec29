"""Running it for real: failures caught, data protected, operators able to see (issue 15).

Read from the template as CloudFormation runs it (after the SAM transform), like test_template.py.
"""

from __future__ import annotations

import json
from typing import Any

from tests.unit.test_template import deployed, functions, resources_of_type, source  # noqa: F401 - fixtures

from photosync import observability

QUEUE_ARN_ATTRIBUTE = "Arn"


def ref_name(value: Any) -> str:
    """The logical id a Ref or GetAtt points at."""
    if "Ref" in value:
        return value["Ref"]
    return value["Fn::GetAtt"][0]


def asynchronously_invoked(template: dict[str, Any]) -> set[str]:
    """Functions AWS invokes with InvocationType Event: S3 notifications, EventBridge rules and
    CloudFormation custom resources (a new event source of either kind is found here too)."""
    resources = template["Resources"]
    found: set[str] = set()
    for bucket in resources_of_type(template, "AWS::S3::Bucket").values():
        for target in bucket["Properties"].get("NotificationConfiguration", {}).get("LambdaConfigurations", []):
            found.add(ref_name(target["Function"]))
    for rule in resources_of_type(template, "AWS::Events::Rule").values():
        found |= {ref_name(target["Arn"]) for target in rule["Properties"]["Targets"]}
    for resource in resources.values():
        if resource["Type"].startswith("Custom::") or resource["Type"] == "AWS::CloudFormation::CustomResource":
            found.add(ref_name(resource["Properties"]["ServiceToken"]))
    return {name for name in found if resources[name]["Type"] == "AWS::Lambda::Function"}


def alarms(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [a["Properties"] for a in resources_of_type(template, "AWS::CloudWatch::Alarm").values()]


def alarms_on(template: dict[str, Any], namespace: str, metric: str, dimension: str) -> dict[str, dict[str, Any]]:
    """The alarms on `metric`, by the logical id of the resource their one dimension points at."""
    found = {}
    for alarm in alarms(template):
        if alarm["Namespace"] == namespace and alarm["MetricName"] == metric:
            [only] = alarm["Dimensions"]
            assert only["Name"] == dimension
            found[ref_name(only["Value"])] = alarm
    return found


def notifies_the_alarm_topic(alarm: dict[str, Any]) -> bool:
    return alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}] and alarm["Threshold"] == 0 and (
        alarm["ComparisonOperator"] == "GreaterThanThreshold"
    )


def test_the_asynchronously_invoked_functions_are_finalize_cleanup_and_migrate(deployed):
    assert asynchronously_invoked(deployed) == {"FinalizeFunction", "CleanupFunction", "MigrateFunction"}


def test_every_asynchronously_invoked_function_keeps_failed_events_in_a_queue(deployed):
    resources = deployed["Resources"]
    configs = {
        ref_name(c["Properties"]["FunctionName"]): c["Properties"]
        for c in resources_of_type(deployed, "AWS::Lambda::EventInvokeConfig").values()
    }
    for function in asynchronously_invoked(deployed):
        config = configs.get(function)
        assert config is not None, f"{function} has no on-failure destination"
        # S3, EventBridge and CloudFormation invoke the unqualified function.
        assert config["Qualifier"] == "$LATEST", function
        destination = config["DestinationConfig"]["OnFailure"]["Destination"]
        queue = destination["Fn::GetAtt"]
        assert queue[1] == QUEUE_ARN_ATTRIBUTE and resources[queue[0]]["Type"] == "AWS::SQS::Queue", function
        role = resources[ref_name(resources[function]["Properties"]["Role"])]["Properties"]
        statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
        assert any(
            "sqs:SendMessage" in json.dumps(s["Action"]) and destination in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
            for s in statements
        ), f"{function} may not send to its dead-letter queue"


def dead_letter_queues(template: dict[str, Any]) -> set[str]:
    """Queues that receive failures: on-failure destinations and the targets of redrive policies."""
    queues = {
        c["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
        for c in resources_of_type(template, "AWS::Lambda::EventInvokeConfig").values()
    }
    for queue in resources_of_type(template, "AWS::SQS::Queue").values():
        redrive = queue["Properties"].get("RedrivePolicy")
        if redrive:
            queues.add(ref_name(redrive["deadLetterTargetArn"]))
    return queues


def test_every_dead_letter_queue_and_so_every_queue_with_one_has_a_depth_alarm(deployed):
    depth_alarms = alarms_on(deployed, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")
    dead_letters = dead_letter_queues(deployed)
    assert {"FinalizeDeadLetterQueue", "CleanupDeadLetterQueue", "MigrateDeadLetterQueue"} <= dead_letters
    for queue in dead_letters:
        assert queue in depth_alarms, f"no alarm on the depth of {queue}"
        assert notifies_the_alarm_topic(depth_alarms[queue]), queue
        # Failures are kept as long as SQS allows: the operator has two weeks to redrive them.
        assert deployed["Resources"][queue]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_every_function_has_error_and_throttle_alarms(deployed):
    for metric in ("Errors", "Throttles"):
        by_function = alarms_on(deployed, "AWS/Lambda", metric, "FunctionName")
        for function in functions(deployed):
            assert function in by_function, f"no {metric} alarm for {function}"
            assert notifies_the_alarm_topic(by_function[function]), (metric, function)


def test_the_bucket_is_versioned_and_noncurrent_versions_expire_after_a_parameter(deployed):
    bucket = deployed["Resources"]["PhotoBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    [rule] = [r for r in bucket["LifecycleConfiguration"]["Rules"] if "NoncurrentVersionExpiration" in r]
    assert rule["Status"] == "Enabled"
    days = rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
    assert days == {"Ref": "NoncurrentVersionExpirationDays"}
    parameter = deployed["Parameters"]["NoncurrentVersionExpirationDays"]
    assert parameter["Type"] == "Number" and parameter["MinValue"] >= 1
    # The delete markers left once their versions expired go too.
    assert rule["ExpiredObjectDeleteMarker"] is True


def test_the_database_has_backups_point_in_time_recovery_and_deletion_protection(deployed):
    database = deployed["Resources"]["Database"]["Properties"]
    # RDS keeps point-in-time recovery for as long as automated backups are kept (at least a day).
    assert database["BackupRetentionPeriod"] == {"Ref": "DatabaseBackupRetentionDays"}
    retention = deployed["Parameters"]["DatabaseBackupRetentionDays"]
    assert retention["MinValue"] >= 1 and retention["MaxValue"] <= 35 and retention["Default"] >= 7
    assert database["DeletionProtection"] is True
    assert deployed["Resources"]["Database"]["DeletionPolicy"] == "Snapshot"
    assert database["MultiAZ"] == {"Ref": "DatabaseMultiAZ"}
    assert set(deployed["Parameters"]["DatabaseMultiAZ"]["AllowedValues"]) == {"true", "false"}
    assert database["MonitoringInterval"] > 0
    assert ref_name(database["MonitoringRoleArn"]) == "DatabaseMonitoringRole"
    assert database["EnableIAMDatabaseAuthentication"] is True


def test_the_api_writes_json_access_logs_with_the_request_id(deployed):
    stages = resources_of_type(deployed, "AWS::ApiGatewayV2::Stage")
    [stage] = stages.values()
    settings = stage["Properties"]["AccessLogSettings"]
    group = deployed["Resources"][ref_name(settings["DestinationArn"])]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    fields = json.loads(settings["Format"])
    assert fields["requestId"] == "$context.requestId"
    assert {"status", "route", "latencyMs", "integrationError"} <= set(fields)


def test_every_function_is_traced(deployed):
    for name, function in functions(deployed).items():
        assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}, name


def test_the_dashboard_shows_every_metric_the_functions_emit(deployed):
    [dashboard] = resources_of_type(deployed, "AWS::CloudWatch::Dashboard").values()
    body = json.loads(dashboard["Properties"]["DashboardBody"]["Fn::Sub"])
    shown = {
        (metric[0], metric[1])
        for widget in body["widgets"]
        for metric in widget["properties"]["metrics"]
    }
    emitted = {(observability.NAMESPACE, name) for name in observability.METRIC_NAMES}
    assert emitted <= shown
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in shown
