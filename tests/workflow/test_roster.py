"""Roster import (workflow.roster): .csv (UTF-8, with or without BOM) and .xlsx; every error named by its
row and column, all at once, and nothing imported when there is one; re-importing is safe; a 5,000-person
roster loads completely and correctly, and a copy with three bad rows is refused naming exactly them."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from store.models import AuditEvent, Document, Organisation, Person, Post
from tests.workflow.test_org import snapshot
from workflow import audit, org
from workflow.demo import TERM_START, roster_csv, roster_xlsx, synthetic_roster
from workflow.engine import Actor
from workflow.roster import RosterError, column_letter, import_roster
from workflow.services import ServiceError

HEADER = ["kind", "code", "name", "parent", "username", "phone", "email", "role", "valid_from", "valid_to"]


def table(*rows: list[str]) -> list[list[str]]:
    return [HEADER, *[list(r) + [""] * (len(HEADER) - len(r)) for r in rows]]


SMALL = table(
    ["area", "A05", "向阳大社区", "C01"],
    ["community", "S21", "向阳社区", "A05"],
    ["person", "A05", "孙建华", "", "xy_gw_shuji", "13900000001", "sunjh@example.cn", "working_secretary", "2026-01-01"],
    ["person", "S21", "冯强", "", "s21_shuji", "13900000011", "", "community_secretary", "2026-01-01", "2028-12-31"],
    ["person", "S21", "陈静", "", "s21_gongzuo", "", "", "社区党委委员/社区工作者", "2026/01/01"],
    ["person", "S01", "冯强", "", "s21_shuji", "", "", "supervisor", "2026-03-01"],
)


def load(db, data: bytes, actor=None, name: str = "roster.csv", **kw):  # type: ignore[no-untyped-def]
    with db.uow() as uow:
        result = import_roster(uow.session, actor or org.CLI, data, name, **kw)
        uow.commit()
    return result


def errors_of(db, data: bytes, actor=None, name: str = "roster.csv") -> list:  # type: ignore[no-untyped-def]
    """The roster is refused, and nothing at all was written."""
    before = snapshot(db), _people(db)
    with db.uow() as uow, pytest.raises(RosterError) as info:
        import_roster(uow.session, actor or org.CLI, data, name)
        uow.commit()
    assert (snapshot(db), _people(db)) == before
    return info.value.errors


def _people(db):  # type: ignore[no-untyped-def]
    with db.uow(write=False) as uow:
        return uow.session.execute(select(Person.username, Person.display_name, Person.phone, Person.email)
                                   .order_by(Person.username)).all()


def test_small_roster_csv_with_bom_loads_people_posts_and_organisations(db, city):
    result = load(db, roster_csv(SMALL, bom=True), city.admin)
    assert (result.areas_created, result.communities_created, result.people_created, result.posts_created) == (1, 1, 3, 4)
    assert result.without_password == 3
    with db.uow(write=False) as uow:
        s = uow.session
        s21 = s.execute(select(Organisation).where(Organisation.code == "S21")).scalar_one()
        assert (s21.name, s.get(Organisation, s21.parent_id).code) == ("向阳社区", "A05")
        feng = s.execute(select(Person).where(Person.username == "s21_shuji")).scalar_one()
        assert (feng.display_name, feng.phone, feng.password_hash) == ("冯强", "13900000011", None)
        posts = s.execute(select(Post.role, Organisation.code, Post.valid_from, Post.valid_to)
                          .join(Organisation, Organisation.id == Post.organisation_id)
                          .where(Post.person_id == feng.id).order_by(Post.id)).all()
        assert posts == [("community_secretary", "S21", dt.date(2026, 1, 1), dt.date(2028, 12, 31)),
                         ("supervisor", "S01", dt.date(2026, 3, 1), None)]
        chen = s.execute(select(Post.role).join(Person, Person.id == Post.person_id)
                         .where(Person.username == "s21_gongzuo")).scalar_one()
        assert chen == "community_staff"  # the Chinese role label was accepted
        events = {(e.entity_id, e.event) for e in s.execute(select(AuditEvent).where(AuditEvent.entity_type == "org"))
                  .scalars()}
        assert (city.city_id, "import_roster") in events and (s21.id, "create_org") in events
        assert (s21.id, "import_posts") in events
        roster_event = s.execute(select(AuditEvent).where(AuditEvent.event == "import_roster")).scalar_one()
        assert roster_event.payload["people_created"] == ["s21_gongzuo", "s21_shuji", "xy_gw_shuji"]
        assert s.get(Document, result.document_sha256) is not None
        assert audit.verify(s).ok


def test_xlsx_and_csv_without_bom_give_the_same_result(db, city):
    with db.uow() as uow:
        dry = import_roster(uow.session, org.CLI, roster_xlsx(SMALL), "名单.xlsx", dry_run=True)
    assert (dry.people_created, dry.posts_created, dry.dry_run) == (3, 4, True)
    assert _people(db) == _people(db) and not any(p[0] == "s21_shuji" for p in _people(db))
    result = load(db, roster_xlsx(SMALL), name="名单.xlsx")
    assert (result.people_created, result.posts_created) == (3, 4)
    again = load(db, roster_csv(SMALL, bom=False))
    assert (again.people_created, again.posts_created, again.areas_created, again.communities_created) == (0, 0, 0, 0)


def test_reimport_is_safe_and_updates_what_changed(db, city):
    load(db, roster_csv(SMALL))
    events = _count(db, AuditEvent)
    again = load(db, roster_csv(SMALL))
    assert (again.people_created, again.posts_created, again.people_updated, again.posts_updated) == (0, 0, 0, 0)
    assert again.posts_unchanged == 4 and again.orgs_unchanged == 2
    assert _count(db, AuditEvent) == events  # nothing changed, nothing recorded
    changed = table(
        ["community", "S21", "向阳新村社区", "A05"],
        ["person", "S21", "冯强强", "", "s21_shuji", "13900000099", "", "community_secretary", "2026-01-01",
         "2026-06-30"],
    )
    result = load(db, roster_csv(changed))
    assert (result.orgs_renamed, result.people_updated, result.posts_updated) == (1, 1, 1)
    with db.uow(write=False) as uow:
        s = uow.session
        feng = s.execute(select(Person).where(Person.username == "s21_shuji")).scalar_one()
        assert (feng.display_name, feng.phone) == ("冯强强", "13900000099")
        assert s.execute(select(Post.valid_to).where(Post.person_id == feng.id, Post.role == "community_secretary")
                         ).scalar_one() == dt.date(2026, 6, 30)
        ev = s.execute(select(AuditEvent).where(AuditEvent.event == "import_roster").order_by(AuditEvent.id.desc())
                       .limit(1)).scalar_one()
        assert ev.payload["people_updated"][0]["before"]["phone"] == "13900000011"
    # a term once ended is not reopened by a roster
    reopened = table(["person", "S21", "冯强强", "", "s21_shuji", "", "", "community_secretary", "2026-01-01"])
    [e] = errors_of(db, roster_csv(reopened))
    assert (e.row, e.column) == (2, "valid_to") and "不能改为" in e.message


def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    with db.uow(write=False) as uow:
        return int(uow.session.execute(select(func.count()).select_from(model)).scalar_one())


def test_every_error_is_reported_with_its_row_and_column_and_nothing_is_imported(db, city):
    load(db, roster_csv(table(["person", "S01", "老书记", "", "old_shuji", "", "", "community_secretary", "2020-01-01"])))
    with db.uow() as uow:
        org.close(uow.session, org.CLI, city.communities[1].id, "撤并")
        uow.commit()
    bad = table(
        ["area", "A05", "向阳大社区", "C01"],                                        # 2 fine
        ["team", "X1", "某队", "C01"],                                               # 3 kind
        ["community", "S 1", "坏代码社区", "A05"],                                    # 4 code
        ["community", "S31", "", "A05"],                                             # 5 name
        ["community", "S32", "无上级社区", ""],                                        # 6 parent missing
        ["community", "S33", "错上级社区", "C01"],                                     # 7 parent level
        ["community", "S34", "悬空社区", "A99"],                                       # 8 parent unknown
        ["area", "A05", "重复大社区", "C01"],                                          # 9 duplicate code
        ["person", "S01", "张三", "", "ab", "", "", "supervisor", "2026-01-01"],        # 10 username
        ["person", "S01", "张三", "", "zhang3", "12x", "", "supervisor", "2026-01-01"],  # 11 phone
        ["person", "S01", "李四", "", "li4", "", "li4@", "supervisor", "2026-01-01"],   # 12 email
        ["person", "S01", "王五", "", "wang5", "", "", "boss", "2026-01-01"],           # 13 role
        ["person", "A01", "赵六", "", "zhao6", "", "", "supervisor", "2026-01-01"],     # 14 role level
        ["person", "S01", "钱七", "", "qian7", "", "", "supervisor", "2026-02-30"],     # 15 date
        ["person", "S01", "孙八", "", "sun8", "", "", "supervisor", "2026-05-01", "2026-04-01"],  # 16 term
        ["person", "S02", "周九", "", "zhou9", "", "", "supervisor", "2026-01-01"],     # 17 closed
        ["person", "S01", "老书记", "", "old_shuji", "", "", "community_secretary", "2021-01-01"],  # 18 overlap (db)
        ["person", "S01", "吴十", "", "wu10", "", "", "supervisor", "2026-01-01"],      # 19 fine
        ["person", "S01", "吴十", "", "wu10", "", "", "supervisor", "2026-06-01"],      # 20 overlap (file)
        ["person", "S01", "吴拾", "", "wu10", "", "", "community_staff", "2026-01-01"],  # 21 name differs
        ["community", "S01", "幸福社区", "A05"],                                        # 22 existing, other parent
        ["area", "S02", "和平社区", "C01"],                                             # 23 existing, other level
        ["person", "S99", "郑一", "", "zheng1", "", "", "supervisor", "2026-01-01"],    # 24 no such organisation
        ["person", "S01", "冯二", "", "feng2", "", "", "supervisor", ""],               # 25 no start
    )
    errors = errors_of(db, roster_csv(bad))
    found = {(e.row, e.column) for e in errors}
    assert found == {(3, "kind"), (4, "code"), (5, "name"), (6, "parent"), (7, "parent"), (8, "parent"),
                     (9, "code"), (10, "username"), (11, "phone"), (12, "email"), (13, "role"), (14, "role"),
                     (15, "valid_from"), (16, "valid_to"), (17, "code"), (18, "valid_from"), (20, "valid_from"),
                     (21, "name"), (22, "parent"), (23, "kind"), (24, "code"), (25, "valid_from")}, sorted(found)
    letters = {e.column: e.letter for e in errors}
    assert letters["role"] == "H" and letters["kind"] == "A"
    assert all(e.message and any("\u4e00" <= ch <= "\u9fff" for ch in e.message) for e in errors)
    assert str(next(e for e in errors if e.row == 13)).startswith("第 13 行 H 列(role): ")


@pytest.mark.parametrize("data,name,fragment", [
    (b"", "r.csv", "空"),
    (b"kind,code,name\n", "r.csv", "没有任何数据行"),
    (b"kind,code,name,password\nperson,S01,x,secret\n", "r.csv", "密码"),
    (b"kind,code,name,colour\n", "r.csv", "未知的列"),
    (b"kind,code,name,parent\n" + "area,A1,大社区,C01\n".encode("gbk"), "r.csv", "UTF-8"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "r.xls", ".xls"),
    (b"PK\x03\x04 not really a zip", "r.xlsx", ".xlsx"),
    ("kind,code,name\nperson,S01,张三\n".encode(), "r.csv", "username"),
])
def test_unreadable_files_are_refused_as_a_whole(db, city, data, name, fragment):
    errors = errors_of(db, data, name=name)
    assert fragment in errors[0].message and errors[0].row in (0, 1)


def test_only_a_city_administrator_imports_and_only_into_their_city(db, city):
    sec = city.communities[0].people["secretary"]
    before = snapshot(db)
    with db.uow() as uow, pytest.raises(ServiceError) as info:
        import_roster(uow.session, sec, roster_csv(SMALL), "r.csv")
    assert (info.value.status, info.value.verdict.code, info.value.verdict.article) == (403, "org.admin_only", "第二条")
    assert snapshot(db) == before
    with db.uow() as uow:
        other = org.create(uow.session, org.CLI, "city", "C02", "yy市", None)
        p = Person(username="admin2", display_name="另一市管理员", active=True)
        uow.session.add(p)
        uow.session.flush()
        uow.session.add(Post(person_id=p.id, organisation_id=other.id, role="city_admin", valid_from=TERM_START))
        uow.commit()
        admin2 = Actor(p.id, "admin2")
    errors = errors_of(db, roster_csv(SMALL), admin2)
    assert {e.row for e in errors} == {2, 3, 4, 5, 6, 7} and all("不属于您管理的市" in e.message for e in errors)


def test_5000_person_roster_loads_completely_and_three_bad_rows_refuse_it(db, city):
    rows = synthetic_roster(people=5000, areas=5, communities=100)
    bad = [list(r) for r in rows]
    # three bad rows, far apart: an unknown role, a malformed date, an organisation that does not exist
    bad[50][7] = "village_head"
    bad[2500][8] = "2026-02-30"
    bad[5100][1] = "RS999"
    people, orgs = _count(db, Person), _count(db, Organisation)
    errors = errors_of(db, roster_csv(bad))
    assert sorted({e.row for e in errors}) == [51, 2501, 5101]
    assert {(e.row, e.column) for e in errors} == {(51, "role"), (2501, "valid_from"), (5101, "code")}
    assert (_count(db, Person), _count(db, Organisation)) == (people, orgs)  # nothing imported
    result = load(db, roster_csv(rows), city.admin)
    assert (result.areas_created, result.communities_created) == (5, 100)
    assert (result.people_created, result.posts_created, result.rows) == (5000, 5000, 5105)
    with db.uow(write=False) as uow:
        s = uow.session
        loaded = dict(s.execute(select(Person.username, Person.display_name)
                                .where(Person.username.like("r%"))).all())
        assert len(loaded) == 5000
        for row in rows[106:]:  # every person row, as written in the file
            assert loaded[row[4]] == row[2]
        per_role = dict(s.execute(select(Post.role, func.count()).join(Organisation, Organisation.id == Post.organisation_id)
                                  .where(Organisation.code.like("R%")).group_by(Post.role)).all())
        assert per_role["community_secretary"] == 100 and per_role["working_secretary"] == 5
        assert sum(per_role.values()) == 5000
        ended = s.execute(select(func.count()).select_from(Post).where(Post.valid_to == dt.date(2028, 12, 31))
                          ).scalar_one()
        assert ended == 500
        assert audit.verify(s).ok
    assert load(db, roster_csv(rows)).people_created == 0


def test_column_letters():
    assert [column_letter(i) for i in (0, 7, 25, 26, 27, 51, 52)] == ["A", "H", "Z", "AA", "AB", "AZ", "BA"]
