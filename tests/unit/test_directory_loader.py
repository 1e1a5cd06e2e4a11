"""The org directory loader keeps good rows and quarantines bad ones with file and line."""

import duckdb

from orchestration.ingest import directory, lake
from tests.fixtures.warehouse import test_paths, write_directory


def test_bad_directory_rows_are_quarantined_and_good_rows_kept(tmp_path):
    paths = test_paths(tmp_path)
    write_directory(
        paths.directory,
        orgs=[("acme", "Acme", "Europe/Berlin"), ("mars", "Mars Base", "Mars/Olympus_Mons")],
        users=[
            ("acme", "u1", "u1@x", "Zoë", "Platform", "", "admin"),
            ("acme", "u2", "u2@x", "Bob", "Platform", "u1", "boss"),
            ("acme", "u1", "dup@x", "Dup", "Platform", "", "member"),
            ("acme", "", "nobody@x", "No Id", "Platform", "", "member"),
        ],
        projects=[("acme", "p1", "P", "single"), ("acme", "p2", "Q", "monorepo")],
    )

    result = directory.load_directory(paths.directory, paths.lake_dir)

    assert (result.orgs, result.users, result.projects, result.quarantined_rows) == (1, 1, 1, 5)
    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        rejected = conn.execute(
            "select source_file, line_number, reason from raw.quarantined_lines where source = 'directory' order by all"
        ).fetchall()
        users = conn.execute("select user_id, name, role from raw.directory_users").fetchall()
    assert rejected == [
        ("orgs.csv", 3, "unknown time zone 'Mars/Olympus_Mons'"),
        ("projects.csv", 3, "invalid kind 'monorepo': expected one of single/workspace"),
        ("users.csv", 3, "invalid role 'boss': expected one of member/manager/admin"),
        ("users.csv", 4, "duplicate user_id u1"),
        ("users.csv", 5, "missing field user_id"),
    ]
    assert users == [("u1", "Zoë", "admin")]


def test_users_without_org_column_belong_to_the_only_org(tmp_path):
    paths = test_paths(tmp_path)
    paths.directory.mkdir(parents=True)
    (paths.directory / "orgs.csv").write_text("org_id,name,timezone\nacme,Acme,UTC\n")
    (paths.directory / "users.csv").write_text("user_id,email,name,team,manager_id,role\nu1,a@x,A,T,,admin\n")
    (paths.directory / "projects.csv").write_text("org_id,project_id,name,kind\n")

    directory.load_directory(paths.directory, paths.lake_dir)

    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        assert conn.execute("select org_id, user_id from raw.directory_users").fetchall() == [("acme", "u1")]


def test_email_reports_column_is_optional_normalised_and_checked(tmp_path):
    paths = test_paths(tmp_path)
    write_directory(
        paths.directory,
        orgs=[("acme", "Acme", "UTC")],
        users=[
            ("acme", "u1", "u1@x", "A", "T", "", "admin"),  # empty: gets the emails
            ("acme", "u2", "u2@x", "B", "T", "u1", "member", "FALSE"),
            ("acme", "u3", "u3@x", "C", "T", "u1", "member", "yes"),
            ("acme", "u4", "u4@x", "D", "T", "u1", "member", "maybe"),
        ],
        projects=[],
    )

    result = directory.load_directory(paths.directory, paths.lake_dir)

    assert (result.users, result.quarantined_rows) == (3, 1)
    with duckdb.connect() as conn:
        lake.register_views(conn, paths.lake_dir)
        users = conn.execute("select user_id, email_reports from raw.directory_users order by 1").fetchall()
        rejected = conn.execute("select line_number, reason from raw.quarantined_lines").fetchall()
    assert users == [("u1", "true"), ("u2", "false"), ("u3", "true")]
    assert rejected == [(5, "invalid email_reports 'maybe': expected true or false")]
