"""The ``fundflow org`` commands: a real city set up from nothing on the command line (city, roster, a
password), refusals naming their article with exit status 1, and the progress bar drawn only on a terminal."""
from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cli import main
from store.models import Person
from workflow.demo import roster_csv, roster_xlsx, synthetic_roster

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "roster.example.csv"


@pytest.fixture
def cli(db, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", db.url)
    runner = CliRunner()

    def run(*args: str, input: str | None = None, code: int = 0):  # type: ignore[no-untyped-def]
        r = runner.invoke(main, list(args), input=input)
        assert r.exit_code == code, (args, r.output, r.exception)
        return r
    return run


def test_a_city_set_up_from_nothing(cli, db, tmp_path):
    cli("org", "create", "--level", "city", "--code", "C01", "--name", "xx市")
    r = cli("org", "import", str(EXAMPLE))
    assert "新设大社区 1 个、社区 2 个" in r.output and "新建人员 9 人" in r.output
    assert "激活码" in r.output
    r = cli("org", "import", str(EXAMPLE))
    assert "新建人员 0 人" in r.output and "未变 22 项" in r.output
    listing = cli("org", "list").output.splitlines()
    assert listing[:3] == ["C01  xx市  [市]", "  A02  向阳大社区  [大社区]", "    S21  向阳社区  [社区]"]
    cli("org", "create", "--level", "area", "--code", "A03", "--name", "东区大社区", "--parent", "C01")
    cli("org", "move", "S22", "A03", "--reason", "就近管理")
    cli("org", "rename", "S22", "朝阳新村社区")
    r = cli("org", "set-password", "s21_shuji", input="a-long-passphrase\na-long-passphrase\n")
    assert "已为 s21_shuji 设置密码" in r.output
    r = cli("org", "activation", "s22_shuji")
    assert "激活码" in r.output
    with db.uow(write=False) as uow:
        hashed = uow.session.execute(select(Person.password_hash).where(Person.username == "s21_shuji")).scalar_one()
    assert hashed and hashed.startswith("$argon2")
    r = cli("org", "list", "--json")
    assert '"parent_code": "A03"' in r.output
    r = cli("audit", "verify")
    assert "审计链完整" in r.output


def test_refusals_exit_1_with_their_article(cli, tmp_path):
    cli("org", "create", "--level", "city", "--code", "C01", "--name", "xx市")
    r = cli("org", "create", "--level", "community", "--code", "S01", "--name", "幸福社区", "--parent", "C01", code=1)
    assert "第二条" in r.output and "org.parent_invalid" in r.output
    r = cli("org", "close", "C01", "--reason", "撤销全市", code=1)
    assert "org.level_invalid" in r.output
    r = cli("org", "rename", "S99", "别名", code=1)
    assert "org.not_found" in r.output
    r = cli("org", "move", "C01", "C01", "--actor", "nobody", code=2)
    assert "不存在" in r.output
    r = cli("org", "set-password", "nobody_here", "--password-stdin", input="a-long-passphrase\n", code=1)
    assert "org.not_found" in r.output
    bad = tmp_path / "bad.csv"
    rows = synthetic_roster(people=20, areas=1, communities=2)
    rows[3][3] = "C99"
    rows[10][7] = "boss"
    bad.write_bytes(roster_csv(rows))
    r = cli("org", "import", str(bad), code=1)
    assert "2 处错误(第 4、11 行)" in r.output and "未导入任何数据" in r.output
    r = cli("org", "import", str(bad), "--json", code=1)
    assert '"row": 4' in r.output and '"row": 11' in r.output
    r = cli("org", "set-password", "x", "--password-stdin", input="short\n", code=1)


def test_progress_bar_only_on_a_terminal(db, tmp_path):
    env = {**os.environ, "DATABASE_URL": db.url}
    fundflow = str(Path(sys.executable).parent / "fundflow")
    subprocess.run([fundflow, "org", "create", "--level", "city", "--code", "C01", "--name", "xx市"], env=env,
                   check=True, capture_output=True, cwd=tmp_path)
    big = tmp_path / "big.xlsx"
    big.write_bytes(roster_xlsx(synthetic_roster(people=1200, areas=2, communities=20)))
    dry = tmp_path / "big.csv"
    dry.write_bytes(roster_csv(synthetic_roster(people=1200, areas=2, communities=20)))
    # piped: the result line and nothing else, on either stream
    piped = subprocess.run([fundflow, "org", "import", str(dry), "--dry-run"], env=env, capture_output=True,
                           text=True, cwd=tmp_path, timeout=300)
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == "" and "\r" not in piped.stdout and "检查名单" not in piped.stdout
    assert piped.stdout.startswith("检查通过(未写入)")
    # on a terminal: the bar is drawn (on stderr, the terminal here)
    leader, follower = pty.openpty()
    proc = subprocess.Popen([fundflow, "org", "import", str(big)], env=env, stdin=follower, stdout=follower,
                            stderr=follower, cwd=tmp_path)
    os.close(follower)
    screen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    assert proc.wait(300) == 0
    text = screen.decode("utf-8", "replace")
    assert "检查名单" in text and "1222/1222" in text and "写入数据库" in text and "2400/2400" in text
    assert "已导入" in text and "新建人员 1200 人" in text
