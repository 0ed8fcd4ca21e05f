"""Roster import (名单导入): areas, communities, people and their posts from one .xlsx or .csv table.

The format is described in README.md ("Roster import format"; example: docs/roster.example.csv). In
short: a header row, then one row per thing, its ``kind`` saying what: ``area`` / ``community`` rows
declare an organisation (``code``, ``name``, ``parent`` code); ``person`` rows give a person
(``username``, ``name``, ``phone``, ``email``) and one post (``role`` in the organisation ``code``,
``valid_from`` .. ``valid_to``). A person with several posts has several rows.

The whole file is checked before anything is written, and every error is reported with its row number
(the spreadsheet's own: the header is row 1) and column, all at once; one error and nothing is imported.
Otherwise everything is written in the caller's one transaction.

Re-importing is safe, and importing a corrected or newer roster updates:

- an organisation whose code exists: unchanged if its name and parent agree; a new name renames it
  (audited like a rename); another parent is an error (a move has its own checks: ``fundflow org move``);
  a closed one is an error;
- a person whose username exists: the name, and the phone and e-mail when given, are updated (a blank
  phone or e-mail cell keeps what is recorded); a post (same person, organisation, role and first day)
  already recorded is unchanged, or has its term ended or shortened by a new ``valid_to`` (never reopened
  or extended); a post overlapping another of the same person, organisation and role is an error;
- nothing that the file does not mention is changed or ended.

Passwords never travel in a roster (a ``password`` column is an error): people created by an import
cannot log in until they set their password with a one-time activation code (``workflow.accounts``).

Audit: each organisation created or renamed gets its ``create_org`` / ``rename_org`` event; each
organisation whose posts changed gets an ``import_posts`` event listing them (before / after); each city
gets an ``import_roster`` event naming the file (archived, sha256) and the people created and updated.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from rules import org as r_org
from rules.verdict import Verdict
from store.documents import archive
from store.models import Organisation, Person, Post
from workflow import audit, clock
from workflow.engine import Actor, HeldPost, forget_org_chains
from workflow.org import admin_posts, snapshot

# ------------------------------------------------------------------------------------ format

COLUMNS: dict[str, str] = {
    "kind": "类型", "code": "组织代码", "name": "名称/姓名", "parent": "上级代码", "username": "用户名",
    "phone": "电话", "email": "电子邮箱", "role": "岗位", "valid_from": "任期开始", "valid_to": "任期结束",
    "note": "备注",
}
"""The columns a roster may have (English id → Chinese header); ``note`` is ignored."""
ALIASES: dict[str, str] = {
    "类型": "kind", "代码": "code", "组织代码": "code", "编码": "code", "名称": "name", "姓名": "name",
    "名称/姓名": "name", "组织名称": "name", "上级代码": "parent", "上级": "parent", "用户名": "username",
    "账号": "username", "电话": "phone", "手机": "phone", "手机号": "phone", "电子邮箱": "email", "邮箱": "email",
    "岗位": "role", "职务": "role", "任期开始": "valid_from", "开始日期": "valid_from", "任期结束": "valid_to",
    "结束日期": "valid_to", "备注": "note", "display_name": "name", "organisation": "code", "org": "code",
}
KINDS: dict[str, str] = {"area": "area", "大社区": "area", "community": "community", "社区": "community",
                         "person": "person", "人员": "person"}
ROLE_BY_LABEL: dict[str, str] = {label: role for role, label in r_org.ROLE_LABELS.items()}
FORBIDDEN_COLUMNS = ("password", "密码", "口令", "password_hash")
REQUIRED = {"area": ("code", "name", "parent"), "community": ("code", "name", "parent"),
            "person": ("code", "name", "username", "role", "valid_from")}
#: rows between two progress reports
STEP = 250


@dataclass(frozen=True)
class RowError:
    row: int
    """The spreadsheet's row number (the header is row 1); 0 for the file as a whole."""
    column: str
    """The column's id (``role`` …), '' for the whole row."""
    letter: str
    """The column's letter (A, B … AA), '' when unknown."""
    message: str

    def where(self) -> str:
        if not self.row:
            return "文件"
        col = f" {self.letter} 列({self.column})" if self.column and self.letter else (
            f" {self.column} 列" if self.column else "")
        return f"第 {self.row} 行{col}"

    def __str__(self) -> str:
        return f"{self.where()}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "letter": self.letter, "message": self.message}


class RosterError(Exception):
    """The roster was refused: every error found, in row order. Nothing was imported."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = sorted(errors, key=lambda e: (e.row, e.letter.rjust(3), e.message))
        super().__init__("\n".join(str(e) for e in self.errors))

    @property
    def rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})


class Progress:
    """Told how far the import is (the CLI draws a bar; the API tells nobody)."""

    def start(self, label: str, total: int) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def finish(self) -> None:
        pass


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


@dataclass
class Table_:
    header: dict[str, int]
    """column id → position."""
    rows: list[tuple[int, list[str]]]
    """(row number, cell texts)."""


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _xlsx_rows(data: bytes) -> Iterator[list[str]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise RosterError([RowError(0, "", "", f"无法读取 .xlsx 工作簿({type(exc).__name__}),请确认文件未损坏")]) from exc
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(v) for v in values]
    finally:
        book.close()


def _csv_rows(data: bytes) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError([RowError(0, "", "", "CSV 文件须为 UTF-8 编码(可带 BOM);若是 GBK 编码请另存为“CSV UTF-8”")]) from exc
    if "\x00" in text:
        raise RosterError([RowError(0, "", "", "文件含有空字符,不是文本 CSV;Excel 工作簿请以 .xlsx 上传")])
    for values in csv.reader(io.StringIO(text, newline="")):
        yield [v.strip() for v in values]


def read_table(data: bytes, filename: str = "") -> Table_:
    """The header and the non-blank rows of an .xlsx (first sheet) or .csv file."""
    name = filename.lower()
    if name.endswith(".xls") or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise RosterError([RowError(0, "", "", "不支持旧版 .xls 工作簿,请另存为 .xlsx 或 CSV(UTF-8)")])
    is_xlsx = data[:4] == b"PK\x03\x04" or name.endswith(".xlsx")
    rows = _xlsx_rows(data) if is_xlsx else _csv_rows(data)
    header_cells: list[str] | None = None
    header_row = 0
    body: list[tuple[int, list[str]]] = []
    for number, cells in enumerate(rows, start=1):
        if header_cells is None:
            if any(cells):
                header_cells = cells
                header_row = number
            continue
        if any(cells):
            body.append((number, cells))
    if header_cells is None:
        raise RosterError([RowError(0, "", "", "文件是空的:第一行须为表头(kind、code、name……)")])
    header, errors = _header(header_cells, header_row)
    if not errors and not body:
        errors.append(RowError(0, "", "", "名单除表头外没有任何数据行"))
    if errors:
        raise RosterError(errors)
    return Table_(header=header, rows=body)


def _header_id(cell: str) -> str | None:
    text = cell.strip().lower().replace("-", "_")
    if text in COLUMNS:
        return text
    if cell.strip() in ALIASES:
        return ALIASES[cell.strip()]
    for token in re.split(r"[\s()()/|]+", cell.strip()):
        if token.lower() in COLUMNS:
            return token.lower()
        if token in ALIASES:
            return ALIASES[token]
    return None


def _header(cells: list[str], row: int) -> tuple[dict[str, int], list[RowError]]:
    header: dict[str, int] = {}
    errors: list[RowError] = []
    for i, cell in enumerate(cells):
        if not cell.strip():
            continue
        letter = column_letter(i)
        if any(word in cell.lower() for word in FORBIDDEN_COLUMNS):
            errors.append(RowError(row, "", letter, f"名单不得包含密码列“{cell}”:导入的人员通过一次性激活码自行设置密码"))
            continue
        col = _header_id(cell)
        if col is None:
            errors.append(RowError(row, "", letter, f"未知的列“{cell}”,可用的列: {', '.join(COLUMNS)}"))
        elif col in header:
            errors.append(RowError(row, col, letter, f"列“{cell}”重复(与 {column_letter(header[col])} 列相同)"))
        else:
            header[col] = i
    for col in ("kind", "code", "name"):
        if col not in header and not errors:
            errors.append(RowError(row, col, "", f"缺少 {col}({COLUMNS[col]})列"))
    return header, errors


# --------------------------------------------------------------------------------- checking


@dataclass
class OrgRow:
    row: int
    level: str
    code: str
    name: str
    parent: str


@dataclass
class PersonRow:
    row: int
    username: str
    name: str
    phone: str
    email: str
    role: str
    code: str
    """The organisation of the post."""
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass
class ImportResult:
    rows: int = 0
    areas_created: int = 0
    communities_created: int = 0
    orgs_renamed: int = 0
    orgs_unchanged: int = 0
    people_created: int = 0
    people_updated: int = 0
    people_unchanged: int = 0
    posts_created: int = 0
    posts_updated: int = 0
    posts_unchanged: int = 0
    without_password: int = 0
    """People in the file who cannot log in yet (no password set)."""
    document_sha256: str = ""
    dry_run: bool = False
    created_usernames: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out.pop("created_usernames")
        return out


class _Checker:
    """Collects every error of the file; knows the table's columns."""

    def __init__(self, table: Table_) -> None:
        self.header = table.header
        self.errors: list[RowError] = []
        self.broken_codes: set[str] = set()
        """Codes declared by organisation rows that have errors: rows naming them are not checked against
        them (the declaring row already says what is wrong)."""

    def add(self, row: int, column: str, message: str) -> None:
        pos = self.header.get(column)
        self.errors.append(RowError(row, column, column_letter(pos) if pos is not None else "", message))

    def verdict(self, row: int, column: str, v: Verdict) -> bool:
        if not v.ok:
            self.add(row, column, v.message)
        return v.ok

    def cell(self, cells: list[str], column: str) -> str:
        pos = self.header.get(column)
        return cells[pos].strip() if pos is not None and pos < len(cells) else ""

    def date(self, row: int, column: str, text: str) -> dt.date | None:
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text[:10].replace("/", "-").replace(".", "-"))
        except ValueError:
            pass
        m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                pass
        self.add(row, column, f"日期“{text}”无效,应为 YYYY-MM-DD(如 2026-01-01)")
        return None


def _parse(table: Table_, check: _Checker, progress: Progress) -> tuple[list[OrgRow], list[PersonRow]]:
    orgs: list[OrgRow] = []
    people: list[PersonRow] = []
    kinds = {KINDS.get(check.cell(cells, "kind").lower(), KINDS.get(check.cell(cells, "kind"), ""))
             for _n, cells in table.rows}
    for kind in sorted(k for k in kinds if k):
        missing = [c for c in REQUIRED[kind] if c not in table.header]
        if missing:
            check.add(1, missing[0], f"有{r_org.level_label(kind) if kind != 'person' else '人员'}行,但缺少 "
                                     f"{'、'.join(missing)} 列")
    if check.errors:
        return orgs, people
    progress.start("检查名单", len(table.rows))
    for i, (row, cells) in enumerate(table.rows, start=1):
        if i % STEP == 0:
            progress.advance(STEP)
        raw_kind = check.cell(cells, "kind")
        found_kind = KINDS.get(raw_kind.lower(), KINDS.get(raw_kind))
        if found_kind is None:
            check.add(row, "kind", f"类型“{raw_kind or '(空)'}”无效,应为 area(大社区)、community(社区)或 person(人员)")
            continue
        kind = found_kind
        code, name = check.cell(cells, "code"), check.cell(cells, "name")
        if kind in ("area", "community"):
            ok = check.verdict(row, "code", r_org.check_code(code))
            ok = check.verdict(row, "name", r_org.check_name(name)) and ok
            parent = check.cell(cells, "parent")
            if not parent:
                check.add(row, "parent", f"{r_org.level_label(kind)}须写明上级组织代码")
                ok = False
            for col in ("username", "phone", "email", "role", "valid_from", "valid_to"):
                if check.cell(cells, col):
                    check.add(row, col, f"{r_org.level_label(kind)}行不填 {col} 列(人员请另起一行,类型 person)")
                    ok = False
            if ok:
                orgs.append(OrgRow(row, kind, code, name, parent))
            else:
                check.broken_codes.add(code)
            continue
        username = check.cell(cells, "username")
        phone, email = check.cell(cells, "phone"), check.cell(cells, "email")
        raw_role = check.cell(cells, "role")
        role = ROLE_BY_LABEL.get(raw_role, raw_role)
        ok = check.verdict(row, "username", r_org.check_username(username))
        ok = check.verdict(row, "name", r_org.check_name(name, "姓名", r_org.MAX_PERSON_NAME)) and ok
        ok = check.verdict(row, "phone", r_org.check_phone(phone)) and ok
        ok = check.verdict(row, "email", r_org.check_email(email)) and ok
        ok = check.verdict(row, "role", r_org.check_role(role)) and ok
        if not code:
            check.add(row, "code", "须写明任职组织的代码")
            ok = False
        if check.cell(cells, "parent"):
            check.add(row, "parent", "人员行不填 parent 列(任职组织写在 code 列)")
            ok = False
        start = check.date(row, "valid_from", check.cell(cells, "valid_from"))
        if start is None and not check.cell(cells, "valid_from"):
            check.add(row, "valid_from", "须写明任期开始日")
        end = check.date(row, "valid_to", check.cell(cells, "valid_to"))
        if start is None or (end is None and check.cell(cells, "valid_to")):
            continue
        if ok and check.verdict(row, "valid_to", r_org.check_term(start, end)):
            people.append(PersonRow(row, username, name, phone, email, role, code, start, end))
    progress.finish()
    return orgs, people


@dataclass
class _Org:
    id: int | None
    code: str
    name: str
    level: str
    parent_code: str
    closed_on: dt.date | None
    row: int = 0
    """The row that declares it in the file (0: only in the database)."""
    city_code: str = ""


@dataclass
class _Plan:
    new_orgs: list[OrgRow] = field(default_factory=list)
    renamed: list[tuple[int, str]] = field(default_factory=list)
    new_people: dict[str, PersonRow] = field(default_factory=dict)
    changed_people: dict[int, tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=dict)
    new_posts: list[PersonRow] = field(default_factory=list)
    ended_posts: list[tuple[int, PersonRow, dt.date | None]] = field(default_factory=list)
    unchanged_orgs: int = 0
    unchanged_people: int = 0
    unchanged_posts: int = 0
    without_password: int = 0

    def renamed_cities(self, known: dict[str, _Org]) -> list[tuple[int, str]]:
        codes = {org.id: org.city_code for org in known.values()}
        return [(org_id, codes.get(org_id, "")) for org_id, _name in self.renamed]


def _chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _check_orgs(session: Session, check: _Checker, orgs: list[OrgRow], plan: _Plan,
                admin_cities: set[int] | None) -> dict[str, _Org]:
    """Every organisation by code (database and file), the file's organisations checked against both."""
    o: Table = Organisation.__table__  # type: ignore[assignment]
    parent_t = o.alias("p")
    known: dict[str, _Org] = {}
    for oid, code, name, level, pcode, closed in session.execute(
            select(o.c.id, o.c.code, o.c.name, o.c.level, parent_t.c.code, o.c.closed_on)
            .select_from(o.outerjoin(parent_t, parent_t.c.id == o.c.parent_id))):
        known[code] = _Org(int(oid), code, name, level, pcode or "", closed)
    names = {(org.parent_code, org.name): org.code for org in known.values()}
    in_file: dict[str, OrgRow] = {}
    to_place: list[OrgRow] = []
    """new organisations and renamed ones: their parent and their name among its children are checked below."""
    for r in orgs:
        first = in_file.get(r.code)
        if first is not None:
            check.add(r.row, "code", f"组织代码 {r.code} 在第 {first.row} 行已出现")
            continue
        in_file[r.code] = r
        existing = known.get(r.code)
        if existing is None:
            known[r.code] = _Org(None, r.code, r.name, r.level, r.parent, None, r.row)
            to_place.append(r)
            continue
        existing.row = r.row
        if existing.level != r.level:
            check.add(r.row, "kind", f"组织 {r.code} 已存在,是{r_org.level_label(existing.level)},"
                                     f"不是{r_org.level_label(r.level)}")
        elif existing.parent_code != r.parent:
            check.add(r.row, "parent", f"组织 {r.code} 已隶属于 {existing.parent_code},名单写的是 {r.parent};"
                                       "调整所属大社区请使用 fundflow org move(另有核对)")
        elif not check.verdict(r.row, "code", r_org.check_open(existing.name, existing.closed_on)):
            pass
        elif existing.name != r.name:
            to_place.append(r)
        else:
            plan.unchanged_orgs += 1
    for r in to_place:
        parent = known.get(r.parent)
        if parent is None and r.parent in check.broken_codes:
            continue
        if not check.verdict(r.row, "parent", r_org.check_parent(r.level, parent.level if parent else None, r.parent)):
            continue
        assert parent is not None
        if not check.verdict(r.row, "parent", r_org.check_open(parent.name, parent.closed_on)):
            continue
        holder = names.get((r.parent, r.name))
        if holder is not None and holder != r.code:
            check.verdict(r.row, "name", r_org.check_name_free(r.name, parent.name, True))
            continue
        names[(r.parent, r.name)] = r.code
        org = known[r.code]
        if org.id is None:
            plan.new_orgs.append(r)
        else:
            plan.renamed.append((org.id, r.name))
            org.name = r.name

    def city_of(code: str, depth: int = 0) -> str:
        org = known.get(code)
        if org is None or depth > 3:
            return ""
        return org.code if org.level == "city" else city_of(org.parent_code, depth + 1)

    for org in known.values():
        org.city_code = city_of(org.code)
    city_ids = {org.code: org.id for org in known.values() if org.level == "city"}
    for r in in_file.values():
        if admin_cities is not None and city_ids.get(known[r.code].city_code) not in admin_cities:
            check.add(r.row, "parent", f"组织 {r.code} 不属于您管理的市")
    return known


def _check_people(session: Session, check: _Checker, people: list[PersonRow], known: dict[str, _Org],
                  plan: _Plan, admin_cities: set[int] | None, progress: Progress) -> None:
    city_ids = {org.code: org.id for org in known.values() if org.level == "city"}
    usernames = sorted({p.username for p in people})
    existing: dict[str, tuple[int, str, str, str, bool]] = {}
    posts: dict[tuple[str, str, str], list[tuple[int, dt.date, dt.date | None]]] = {}
    o: Table = Organisation.__table__  # type: ignore[assignment]
    for chunk in _chunks(usernames):
        for pid, username, name, phone, email, has_pw in session.execute(
                select(Person.id, Person.username, Person.display_name, Person.phone, Person.email,
                       Person.password_hash.is_not(None)).where(Person.username.in_(chunk))):
            existing[username] = (int(pid), name, phone or "", email or "", bool(has_pw))
        for post_id, username, code, role, vfrom, vto in session.execute(
                select(Post.id, Person.username, o.c.code, Post.role, Post.valid_from, Post.valid_to)
                .join(Person, Person.id == Post.person_id).join(o, o.c.id == Post.organisation_id)
                .where(Person.username.in_(chunk))):
            posts.setdefault((username, code, role), []).append((int(post_id), vfrom, vto))
    first_row: dict[str, PersonRow] = {}
    in_file: dict[tuple[str, str, str], list[PersonRow]] = {}
    progress.start("核对人员与任期", len(people))
    for i, p in enumerate(people, start=1):
        if i % STEP == 0:
            progress.advance(STEP)
        org = known.get(p.code)
        if org is None and p.code in check.broken_codes:
            continue
        if not check.verdict(p.row, "code", r_org.check_found(org is not None, f"组织 {p.code}")):
            continue
        assert org is not None
        if not check.verdict(p.row, "code", r_org.check_open(org.name, org.closed_on)):
            continue
        if not check.verdict(p.row, "role", r_org.check_role_level(p.role, org.level, p.code)):
            continue
        if admin_cities is not None and city_ids.get(org.city_code) not in admin_cities:
            check.add(p.row, "code", f"组织 {p.code} 不属于您管理的市")
            continue
        first = first_row.get(p.username)
        if first is None:
            first_row[p.username] = p
        else:
            for col, mine, theirs in (("name", p.name, first.name), ("phone", p.phone, first.phone),
                                      ("email", p.email, first.email)):
                if mine and theirs and mine != theirs:
                    check.add(p.row, col, f"用户 {p.username} 的 {col} 与第 {first.row} 行不一致(“{mine}” / “{theirs}”)")
        key = (p.username, p.code, p.role)
        clash = False
        for other in in_file.get(key, []):
            if r_org.terms_overlap(p.valid_from, p.valid_to, other.valid_from, other.valid_to):
                check.add(p.row, "valid_from", f"与第 {other.row} 行的同一岗位任期重叠")
                clash = True
                break
        if clash:
            continue
        in_file.setdefault(key, []).append(p)
        same = None
        overlapping = None
        for post_id, vfrom, vto in posts.get(key, []):
            if vfrom == p.valid_from:
                same = (post_id, vto)
            elif r_org.terms_overlap(p.valid_from, p.valid_to, vfrom, vto):
                overlapping = (vfrom, vto)
        if not check.verdict(p.row, "valid_from", r_org.check_no_overlap(p.role, p.code, overlapping)):
            continue
        if same is None:
            plan.new_posts.append(p)
        elif same[1] == p.valid_to:
            plan.unchanged_posts += 1
        elif check.verdict(p.row, "valid_to", r_org.check_term_end_change(same[1], p.valid_to)):
            plan.ended_posts.append((same[0], p, same[1]))
    progress.finish()
    for username, p in first_row.items():
        phone = next((q.phone for q in people if q.username == username and q.phone), "") if not p.phone else p.phone
        email = next((q.email for q in people if q.username == username and q.email), "") if not p.email else p.email
        found = existing.get(username)
        if found is None:
            plan.new_people[username] = PersonRow(p.row, username, p.name, phone, email, p.role, p.code,
                                                  p.valid_from, p.valid_to)
            plan.without_password += 1
            continue
        pid, name, old_phone, old_email, has_pw = found
        before = {"display_name": name, "phone": old_phone, "email": old_email}
        after = {"display_name": p.name, "phone": phone or old_phone, "email": email or old_email}
        if before != after:
            plan.changed_people[pid] = (before, {**after, "username": username, "city": known[p.code].city_code})
        else:
            plan.unchanged_people += 1
        plan.without_password += 0 if has_pw else 1


# ---------------------------------------------------------------------------------- writing


def import_roster(session: Session, actor: Actor, data: bytes, filename: str = "", *, dry_run: bool = False,
                  progress: Progress | None = None, now: dt.datetime | None = None) -> ImportResult:
    """Check the whole roster, then (unless ``dry_run``) write it in the caller's transaction.

    Raises :class:`RosterError` with every error when there is one (nothing is written), and
    ``ServiceError`` (403) when the actor is not a city administrator.
    """
    progress = progress or Progress()
    now = now or clock.now()
    day = clock.local_date(now)
    held = admin_posts(session, actor, day)
    admin_cities = None if held is None else {p.organisation_id for p in held}
    table = read_table(data, filename)
    check = _Checker(table)
    orgs, people = _parse(table, check, progress)
    plan = _Plan()
    if check.errors and not orgs and not people:
        raise RosterError(check.errors)
    # the rows that read well are checked against the database and each other even when others did not:
    # every error of the file is reported at once
    known = _check_orgs(session, check, orgs, plan, admin_cities)
    _check_people(session, check, people, known, plan, admin_cities, progress)
    if check.errors:
        raise RosterError(check.errors)
    result = ImportResult(rows=len(table.rows), orgs_renamed=len(plan.renamed), orgs_unchanged=plan.unchanged_orgs,
                          people_created=len(plan.new_people), people_updated=len(plan.changed_people),
                          people_unchanged=plan.unchanged_people, posts_created=len(plan.new_posts),
                          posts_updated=len(plan.ended_posts), posts_unchanged=plan.unchanged_posts,
                          without_password=plan.without_password, dry_run=dry_run,
                          areas_created=sum(1 for r in plan.new_orgs if r.level == "area"),
                          communities_created=sum(1 for r in plan.new_orgs if r.level == "community"),
                          created_usernames=sorted(plan.new_people))
    if dry_run:
        return result
    _write(session, actor, held, plan, known, data, filename, now, result, progress)
    return result


def _write(session: Session, actor: Actor, held: list[HeldPost] | None, plan: _Plan, known: dict[str, _Org],
           data: bytes, filename: str, now: dt.datetime, result: ImportResult, progress: Progress) -> None:
    ids: dict[str, int] = {code: org.id for code, org in known.items() if org.id is not None}
    post_of = {p.organisation_id: p for p in held or []}

    def admin_for(city_code: str) -> HeldPost | None:
        return post_of.get(ids.get(city_code, -1))

    def record(org_id: int, city_code: str, event: str, payload: dict[str, Any], **kw: Any) -> None:
        post = admin_for(city_code)
        audit.record(session, "org", org_id, event=event, at=now, actor_id=actor.person_id, actor_label=actor.label,
                     post_id=post.id if post else None, role=post.role if post else "", payload=payload, **kw)

    source = f"名单导入 {filename}".strip()
    # organisations: areas before communities, so that parents exist
    for r in sorted(plan.new_orgs, key=lambda r: r.level != "area"):
        org = Organisation(code=r.code, name=r.name, level=r.level, parent_id=ids[r.parent])
        session.add(org)
        session.flush()
        ids[r.code] = org.id
        parent = session.get(Organisation, ids[r.parent])
        record(org.id, known[r.code].city_code, "create_org", {"before": None, "after": snapshot(org, parent),
                                                               "source": source}, to_state="open")
    for org_id, name in plan.renamed:
        renamed = session.get(Organisation, org_id)
        assert renamed is not None
        org = renamed
        parent = session.get(Organisation, org.parent_id) if org.parent_id is not None else None
        before = snapshot(org, parent)
        org.name = name
        session.flush()
        record(org.id, known[org.code].city_code, "rename_org", {"before": before, "after": snapshot(org, parent),
                                                                 "source": source})
    people_t: Table = Person.__table__  # type: ignore[assignment]
    posts_t: Table = Post.__table__  # type: ignore[assignment]
    total = len(plan.new_people) + len(plan.changed_people) + len(plan.new_posts) + len(plan.ended_posts)
    progress.start("写入数据库", total)
    person_ids: dict[str, int] = {}
    new_people = list(plan.new_people.values())
    for start in range(0, len(new_people), 1000):
        batch = new_people[start:start + 1000]
        rows = session.execute(insert(people_t).returning(people_t.c.id, people_t.c.username),
                               [{"username": p.username, "display_name": p.name, "password_hash": None,
                                 "phone": p.phone or None, "email": p.email or None, "active": True} for p in batch])
        person_ids.update({str(u): int(i) for i, u in rows})
        progress.advance(len(batch))
    if plan.changed_people:
        session.execute(update(people_t).where(people_t.c.id == bindparam("pid")).values(
            display_name=bindparam("display_name"), phone=bindparam("phone"), email=bindparam("email")),
            [{"pid": pid, "display_name": a["display_name"], "phone": a["phone"] or None, "email": a["email"] or None}
             for pid, (_b, a) in plan.changed_people.items()])
        progress.advance(len(plan.changed_people))
    missing = sorted({p.username for p in plan.new_posts} - set(person_ids))
    for chunk in _chunks(missing):
        person_ids.update({str(u): int(i) for i, u in session.execute(
            select(people_t.c.id, people_t.c.username).where(people_t.c.username.in_(chunk)))})
    by_org: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(plan.new_posts), 1000):
        batch = plan.new_posts[start:start + 1000]
        session.execute(insert(posts_t), [{"person_id": person_ids[p.username], "organisation_id": ids[p.code],
                                           "role": p.role, "valid_from": p.valid_from, "valid_to": p.valid_to}
                                          for p in batch])
        for p in batch:
            by_org.setdefault(p.code, []).append(
                {"username": p.username, "role": p.role, "before": None,
                 "after": {"valid_from": p.valid_from.isoformat(),
                           "valid_to": p.valid_to.isoformat() if p.valid_to else None}})
        progress.advance(len(batch))
    if plan.ended_posts:
        session.execute(update(posts_t).where(posts_t.c.id == bindparam("post_id")).values(valid_to=bindparam("new_to")),
                        [{"post_id": post_id, "new_to": p.valid_to} for post_id, p, _old in plan.ended_posts])
        for post_id, p, old in plan.ended_posts:
            by_org.setdefault(p.code, []).append(
                {"post_id": post_id, "username": p.username, "role": p.role,
                 "before": {"valid_from": p.valid_from.isoformat(), "valid_to": old.isoformat() if old else None},
                 "after": {"valid_from": p.valid_from.isoformat(),
                           "valid_to": p.valid_to.isoformat() if p.valid_to else None}})
        progress.advance(len(plan.ended_posts))
    progress.finish()
    for code in sorted(by_org):
        record(ids[code], known[code].city_code, "import_posts", {"posts": by_org[code], "source": source})
    sha = archive(session, data, "text/csv" if not data.startswith(b"PK") else
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename[:200] or "roster",
                  now)
    result.document_sha256 = sha
    cities = sorted({known[c].city_code for c in (*by_org, *(r.code for r in plan.new_orgs))}
                    | {code for _o, code in plan.renamed_cities(known)}
                    | {a["city"] for _b, a in plan.changed_people.values()})
    for city in cities:
        if city not in ids:
            continue
        mine = sorted(u for u, p in plan.new_people.items() if known[p.code].city_code == city)
        changed = [{"username": a["username"], "before": b,
                    "after": {k: v for k, v in a.items() if k not in ("username", "city")}}
                   for b, a in plan.changed_people.values() if a["city"] == city]
        archive_link(session, sha, ids[city], now)
        record(ids[city], city, "import_roster",
               {"file": filename, "document_sha256": sha, "rows": result.rows,
                "counts": {k: v for k, v in result.as_dict().items() if isinstance(v, int) and not isinstance(v, bool)},
                "people_created": mine, "people_updated": changed})
    forget_org_chains(session)


def archive_link(session: Session, sha: str, city_id: int, now: dt.datetime) -> None:
    from store.models import DocumentLink

    session.add(DocumentLink(document_sha256=sha, entity_type="org", entity_id=city_id, role="roster", created_at=now))

