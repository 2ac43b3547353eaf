"""The import item's shape (`imports/items.py`): the adapter names fields, items names attributes."""

from __future__ import annotations

import pytest

from chalicelib.imports.domain import ImportRecord
from chalicelib.imports.items import attribute_names, import_from_item, import_to_item


def test_an_update_names_fields_and_gets_the_stored_attributes():
    names = attribute_names("SET #users_created = :n, #updated_at = :now", "#lease_owner = :o")
    assert names == {
        "#users_created": "usersCreated",
        "#updated_at": "updatedAt",
        "#lease_owner": "leaseOwner",
    }
    assert attribute_names("attribute_exists(#key)") == {"#key": "PK"}


def test_a_field_the_import_does_not_have_is_refused():
    with pytest.raises(KeyError):
        attribute_names("SET #usersCreated = :n")  # the attribute's name is not a field


def test_every_attribute_an_update_can_name_is_one_the_item_stores():
    record = ImportRecord(import_id="i1", event_id="e1", status="running", created_at="c")
    item = import_to_item(record)
    fields = [f for f in ImportRecord.__dataclass_fields__ if getattr(record, f) is not None]
    stored = attribute_names(" ".join(f"#{f}" for f in fields))
    assert set(stored.values()) <= set(item)
    assert import_from_item(item) == record
