"""The minimal JSON and config.pbtxt edits behind the fixes: same meaning as the dict operation, the rest of
the text untouched."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from triton_doctor.fixdata import text_edit
from triton_doctor.probes.pbtxt import field_positions, parse_config
from triton_doctor.repair.jsonedit import delete_key, rename_key, repair_json, set_key
from triton_doctor.repair.pbtxtedit import delete_field, set_scalar

KEYS = st.text(alphabet="abcdefgh_", min_size=1, max_size=6)
VALUES = st.one_of(
    st.integers(-5, 10**6), st.booleans(), st.none(), st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3), st.dictionaries(KEYS, st.integers(), max_size=2),
)  # fmt: skip
OBJECTS = st.dictionaries(KEYS, VALUES, min_size=1, max_size=6)


def _render(data: dict[str, Any], indent: int | None) -> str:
    return json.dumps(data, indent=indent) + ("\n" if indent else "")


@settings(max_examples=200, deadline=None)
@given(data=OBJECTS, key=KEYS, value=VALUES, indent=st.sampled_from([None, 2, 4]))
def test_json_edits_mean_the_dict_operation(data: dict[str, Any], key: str, value: Any, indent: int | None) -> None:
    text = _render(data, indent)
    assert json.loads(set_key(text, key, json.dumps(value))) == {**data, key: value}
    if key in data:
        assert json.loads(delete_key(text, key)) == {k: v for k, v in data.items() if k != key}
        new = key + "_x"
        if new not in data:
            renamed = json.loads(rename_key(text, key, new))
            assert list(renamed) == [new if k == key else k for k in data]
    # untouched members keep their exact text
    other = next((k for k in data if k != key), None)
    if other is not None and indent:
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(json.dumps(other) + ":"))
        assert line.rstrip(",") in set_key(text, key, "1")


def test_repair_json_only_comments_and_trailing_commas() -> None:
    text = '{\n  // a comment\n  "a": "x // not a comment, }",  # another\n  "b": [1, 2,],\n}\n'
    fixed = repair_json(text)
    assert fixed is not None and json.loads(fixed) == {"a": "x // not a comment, }", "b": [1, 2]}
    assert repair_json("{'a': 1}") is None  # single quotes: not the doctor's to guess


CONFIG = """# my model
name: "gemma-2b"  # was copied
backend: "vllm"
max_batch_size: 256
dynamic_batching { max_queue_delay_microseconds: 100 }
input [ { name: "text_input", data_type: TYPE_STRING, dims: [ -1 ] } ]
model_transaction_policy {
  decoupled: false # streaming!
}
"""


def test_pbtxt_edits_keep_comments_and_parse() -> None:
    pos = field_positions(CONFIG)
    text = set_scalar(CONFIG, *pos[("name",)], '"gemma"')
    text = set_scalar(text, *field_positions(text)[("model_transaction_policy", 0, "decoupled")], "true")
    text = delete_field(text, *field_positions(text)[("dynamic_batching",)])
    text = set_scalar(text, *field_positions(text)[("max_batch_size",)], "0")
    message: Any = parse_config(text).message
    assert message is not None
    assert message.name == "gemma" and message.max_batch_size == 0 and message.model_transaction_policy.decoupled
    assert not message.HasField("dynamic_batching")
    assert "# my model" in text and "# was copied" in text and "# streaming!" in text
    edit = text_edit("config.pbtxt", CONFIG, text)
    assert edit is not None and edit.start == 2 and "# my model" not in edit.old
