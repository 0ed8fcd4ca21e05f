"""rules.procurement: a purchase names a procurement-catalogue item by its code (第十二条)."""
from __future__ import annotations

import pytest

from rules.policy import DEFAULT_PROCUREMENT_CATALOG, Policy
from rules.procurement import check_line_item_codes, normalise_code
from tests.rules.helpers import Case, assert_ok, run_case

ART = "第十二条"
CATALOG = dict(DEFAULT_PROCUREMENT_CATALOG)

REFUSALS: list[Case] = [
    Case("code-missing", lambda: check_line_item_codes([("LED 路灯", "A02061900"), ("灯杆", " ")], CATALOG),
         "procurement.item_missing", ART),
    Case("free-text", lambda: check_line_item_codes([("LED 路灯", "维修和保养服务")], CATALOG),
         "procurement.item_unknown", ART),
    Case("code-and-name", lambda: check_line_item_codes([("LED 路灯", "C23120000 维修和保养服务")], CATALOG),
         "procurement.item_unknown", ART),
    Case("unknown-code", lambda: check_line_item_codes([("LED 路灯", "Z9999")], CATALOG),
         "procurement.item_unknown", ART),
    Case("not-in-this-city", lambda: check_line_item_codes([("LED 路灯", "C23120000")], {"A1001": "体育健身器材"}),
         "procurement.item_unknown", ART),
]


@pytest.mark.parametrize("case", REFUSALS, ids=lambda c: c.id)
def test_refusals(case: Case) -> None:
    run_case(case)


def test_codes_of_the_catalogue_are_accepted_however_typed() -> None:
    assert_ok(check_line_item_codes([("LED 路灯", "A02061900"), ("健身器材", " a02390000 "), ("图书", "Ａ０５０１００００")],
                                     CATALOG))
    assert_ok(check_line_item_codes([], CATALOG))
    assert normalise_code(" ｃ1902 ") == "C1902"


def test_refusals_name_the_line_item_and_an_example() -> None:
    v = check_line_item_codes([("LED 路灯", "Z9999")], CATALOG)
    assert "LED 路灯" in v.message and "Z9999" in v.message and "A02061900 照明设备" in v.message


def test_the_default_policy_carries_a_catalogue_that_round_trips() -> None:
    p = Policy()
    assert p.catalog_names()["C23120000"] == "维修和保养服务"
    assert len(p.catalog_names()) == len(DEFAULT_PROCUREMENT_CATALOG) >= 15
    stored = p.to_dict()["procurement_catalog"]
    assert stored[0] == {"code": DEFAULT_PROCUREMENT_CATALOG[0][0], "name": DEFAULT_PROCUREMENT_CATALOG[0][1]}
    assert Policy.from_dict(p.to_dict()) == p
    own = Policy.from_dict({"procurement_catalog": [{"code": "A01", "name": "图书"}, ["C02", "培训服务"]]})
    assert own.catalog_names() == {"A01": "图书", "C02": "培训服务"}


@pytest.mark.parametrize(("catalog", "words"), [
    ("C1902", "品目列表"),
    ([], "至少须有一个品目"),
    ([{"code": "C1902"}], "code"),
    ([{"code": "c1902", "name": "维修"}], "大写字母和数字"),
    ([{"code": "C1902", "name": " "}], "名称不能为空"),
    ([{"code": "C1902", "name": "维修"}, {"code": "C1902", "name": "保养"}], "不能重复"),
    ([{"code": 1902, "name": "维修"}], "须为字符串"),
])
def test_malformed_catalogue_is_refused(catalog: object, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        Policy.from_dict({"procurement_catalog": catalog})
