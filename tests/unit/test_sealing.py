"""Envelope encryption of webhook secrets: local key and KMS (moto, in process)."""

from __future__ import annotations

import boto3
import pytest
from cryptography.exceptions import InvalidTag
from moto import mock_aws

from chalicelib.webhooks.sealing import KmsEnvelopeSealer, LocalKeySealer, Unsealed, sealer_for

KEY = bytes(range(32))


def test_a_local_seal_opens_for_its_webhook_only():
    sealer = LocalKeySealer(KEY)
    sealed = sealer.seal("whsec_abc", "wh_1")
    assert sealed.startswith("local:v1:") and "whsec_abc" not in sealed
    assert sealer.open(sealed, "wh_1") == "whsec_abc"
    assert sealer.seal("whsec_abc", "wh_1") != sealed  # a fresh nonce each time
    with pytest.raises(InvalidTag):
        sealer.open(sealed, "wh_2")  # copied to another subscription: does not open
    with pytest.raises(InvalidTag):
        LocalKeySealer(bytes(32)).open(sealed, "wh_1")  # another key


def test_a_secret_written_before_sealing_opens_as_itself():
    assert LocalKeySealer(KEY).open("whsec_old", "wh_1") == "whsec_old"


def test_the_setting_chooses_the_sealer():
    assert isinstance(sealer_for("", lambda: None), Unsealed)
    local = sealer_for("local:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", lambda: None)
    assert isinstance(local, LocalKeySealer) and local.open(local.seal("s", "w"), "w") == "s"
    with pytest.raises(ValueError):
        sealer_for("local:c2hvcnQ=", lambda: None)  # not 32 bytes


@mock_aws
def test_kms_envelope_round_trip_unwraps_each_data_key_once():
    kms = boto3.client("kms", region_name="us-east-1")
    key_id = kms.create_key()["KeyMetadata"]["Arn"]
    calls: list[str] = []
    kms.meta.events.register("before-call.kms.Decrypt", lambda **_: calls.append("decrypt"))
    sealer = KmsEnvelopeSealer(kms, key_id)
    sealed = sealer.seal("whsec_kms", "wh_9")
    assert sealed.startswith("kms:v1:") and "whsec_kms" not in sealed
    assert [sealer.open(sealed, "wh_9") for _ in range(3)] == ["whsec_kms"] * 3
    assert calls == ["decrypt"]  # cached after the first
    with pytest.raises(Exception):  # noqa: B017 - KMS refuses another encryption context
        KmsEnvelopeSealer(kms, key_id).open(sealed, "wh_other")
