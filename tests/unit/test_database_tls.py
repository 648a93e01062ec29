"""In AWS the connection to RDS Proxy is encrypted and verified (certificate chain and host name)
against a CA bundle shipped with the code: `sslmode=require` would accept any certificate."""

from __future__ import annotations

import json
import ssl

import boto3
import psycopg

from photosync.adapters.postgres import connection
from photosync.config import load_settings

AWS_ENV = {
    "PHOTOSYNC_MODE": "aws", "PHOTOSYNC_S3_BUCKET": "photos", "PHOTOSYNC_DB_SECRET_ARN": "arn:secret",
    "PHOTOSYNC_DB_HOST": "proxy.proxy-abc.eu-west-1.rds.amazonaws.com", "AWS_REGION": "eu-west-1",
}


class FakeSecrets:
    def get_secret_value(self, SecretId):  # noqa: N803 (boto3's spelling)
        assert SecretId == "arn:secret"
        return {"SecretString": json.dumps({"username": "photosync", "password": "pw", "port": 5432})}


def test_the_aws_connection_verifies_the_proxy_against_the_shipped_bundle(monkeypatch):
    monkeypatch.setattr(boto3, "client", lambda service, **_: FakeSecrets())

    options = psycopg.conninfo.conninfo_to_dict(connection._conninfo(load_settings(AWS_ENV)))

    assert options["sslmode"] == "verify-full"
    assert options["host"] == AWS_ENV["PHOTOSYNC_DB_HOST"]
    bundle = ssl.create_default_context(cafile=options["sslrootcert"])
    subjects = {dict(part[0] for part in cert["subject"])["commonName"] for cert in bundle.get_ca_certs()}
    assert {"Amazon Root CA 1", "Amazon Root CA 2", "Amazon Root CA 3", "Amazon Root CA 4"} <= subjects


def test_the_bundle_ships_inside_the_package():
    from importlib import resources

    shipped = resources.files("photosync") / "adapters" / "postgres" / connection.RDS_PROXY_CA_BUNDLE.name
    assert shipped.is_file() and "BEGIN CERTIFICATE" in shipped.read_text()
