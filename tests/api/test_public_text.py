"""Public text (issue 12, points 7 and 8): bidi controls stripped from free text and names on input, refused in
codes that must match exactly, never emitted; every public answer masked by the same rules."""
from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, Clock, World

RLO, PDF, LRI, PDI = "\u202e", "\u202c", "\u2066", "\u2069"


def _publicity(api: Api, world: World, clock_at: Clock, **over: Any) -> tuple[int, dict[str, Any]]:
    from tests.api.test_lifecycle import MEETING

    p = api.propose("secretary", world.c0, **over)
    pid = p["id"]
    api.event("secretary", pid, "submit_preliminary")
    api.event("member", pid, "grant_preliminary")
    clock_at.advance(days=1)
    api.event("secretary", pid, "record_meeting", MEETING)
    notices = api.get(None, f"/api/v1/public/notices?community={world.c0}&kind=publicity&running=true").json()
    notice = next(n for n in notices["items"] if n["project_code"] == p["code"])
    return pid, notice


def test_bidi_controls_are_stripped_from_text_and_never_reach_the_board(api: Api, world: World,
                                                                         clock_at: Clock) -> None:
    title = f"楼道{RLO}灯改造{PDF}"
    pid, notice = _publicity(api, world, clock_at, title=title, description=f"更换{LRI}损坏的楼道灯{PDI}。")
    assert notice["title"] == "项目公示:楼道灯改造"
    detail = api.get("secretary", f"/api/v1/projects/{pid}").json()
    assert detail["title"] == "楼道灯改造" and detail["description"] == "更换损坏的楼道灯。"
    # a resident's objection is taken, without the invisible override
    r = api.post(None, f"/api/v1/public/notices/{notice['id']}/objections",
                 {"author_name": f"王{RLO}先生", "text": f"建议{RLO}先修三号楼的灯,电话 138\u200b1234\u200b5678。"})
    assert r.status_code == 201, r.text
    public = api.client.get(f"/api/v1/public/notices/{notice['id']}")
    body = public.text
    for control in (RLO, PDF, LRI, PDI):
        assert control not in body and control.encode("unicode_escape").decode() not in body
    objection = public.json()["objections"][0]
    assert objection["author"] == "王**" and objection["text"] == "建议先修三号楼的灯,电话 138****5678。"


def test_bidi_controls_are_refused_in_codes_that_must_match(api: Api, world: World, clock_at: Clock) -> None:
    import pydantic
    import pytest

    from workflow.payloads import PaymentItemIn

    with pytest.raises(pydantic.ValidationError, match="双向文字控制字符"):
        PaymentItemIn(kind="invoice", amount="100.00", payee="照明公司", invoice_no=f"INV{RLO}0001")
    with pytest.raises(pydantic.ValidationError, match="双向文字控制字符"):
        PaymentItemIn(kind="voucher", amount="100.00", payee="张三", payee_account=f"6222{RLO}0212")
    assert PaymentItemIn(kind="voucher", amount="100.00", payee=f"张{RLO}三").payee == "张三"
