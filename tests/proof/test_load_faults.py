"""The load-and-faults proof's own logic, on hand-made inputs (no server, no database)."""

import http.client

import pytest

from harness import parse_stat, with_database
from proof.editors import published_markers
from proof.load_faults import (
    ACK,
    BURST,
    IN_TRANSACTION,
    PATCH,
    POST,
    PROJECT_PUT,
    PUT,
    REJECTED,
    SUMMARY,
    UNKNOWN,
    Kill,
    Write,
    error_kind,
    faults_shortfall,
    killed_uncommitted,
    logged_errors,
    loopback_url,
    parse_args,
    parse_tag,
    rating_value,
    socket_inodes,
    tag_for,
    verify_writes,
    write_outcome,
)
from proof.markers import LeakCheck, draft_marker, published_marker

RUN = "a1b2c3"
DEMO = (2, False, "Illustrative judgement.", "C", "")


def value(writer, seq, level=3):
    return rating_value(
        {
            "rating": level,
            "evidence": f"Load proof {tag_for(RUN, writer, seq)}: x.",
            "evidence_grade": "B",
            "source_url": "https://example.org/evidence",
        }
    )


def put(writer, seq, outcome=ACK, *, started, ended, if_match=None, key=("moxie", "S7.1"), level=3):
    return Write(
        writer,
        seq,
        PUT,
        key[0],
        key[1],
        value(writer, seq, level),
        if_match=if_match,
        started=started,
        ended=ended,
        outcome=outcome,
        status={ACK: 200, REJECTED: 412, UNKNOWN: None}[outcome],
    )


def post(writer, seq, outcome=ACK, *, codes=("S7.1", "D1")):
    ratings = {code: value(writer, seq) for code in codes}
    return Write(
        writer,
        seq,
        POST,
        f"proof-{RUN}-w{writer}-s{seq}",
        None,
        ratings,
        name=f"Load proof w{writer} s{seq}",
        started=0,
        ended=1,
        outcome=outcome,
        status={ACK: 201, REJECTED: 409, UNKNOWN: None}[outcome],
    )


def state(ratings: dict, **projects) -> dict:
    """A dump: the project "moxie" with these {code: value} ratings, plus any other projects."""
    dumped = {"moxie": {"name": "MOXIE", "ratings": {c: list(v) for c, v in ratings.items()}, "history": 9}}
    return {**dumped, **projects}


def stored_post(write: Write, *, ratings=None, history=1) -> dict:
    ratings = write.value if ratings is None else ratings
    dumped = {c: list(v) for c, v in ratings.items()}
    return {write.slug: {"name": write.name, "ratings": dumped, "history": history}}


# -- what an answer means ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, ACK), (201, ACK), (400, REJECTED), (404, REJECTED), (412, REJECTED), (428, REJECTED)]
    + [(500, UNKNOWN), (502, UNKNOWN), (None, UNKNOWN)],
)
def test_write_outcome(status, outcome):
    assert write_outcome(status) == outcome


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (http.client.RemoteDisconnected("closed"), "connection closed without an answer"),
        (TimeoutError("timed out"), "timeout"),
        (ConnectionRefusedError(), "connection refused"),
        (ConnectionResetError(), "connection reset"),
        (BrokenPipeError(), "broken pipe"),
        (http.client.IncompleteRead(b""), "incomplete answer"),
        (OSError("other"), "OSError"),
    ],
)
def test_error_kind(exc, kind):
    assert error_kind(exc) == kind


def test_tags_are_draft_markers_naming_the_write_of_this_run_only():
    assert tag_for(RUN, 3, 41) == draft_marker(RUN, 3, 41) == "[draft-marker a1b2c3 w3-s41]"
    assert parse_tag(f"{tag_for(RUN, 3, 41)} Load proof: level 2.", RUN) == (3, 41)
    assert parse_tag(f"Load proof {tag_for('ffffff', 3, 41)}.", RUN) is None
    assert parse_tag("Illustrative judgement.", RUN) is None
    assert parse_tag("", RUN) is None


def test_rating_value_is_what_the_service_stores():
    assert rating_value({"rating": 4, "evidence": "e", "evidence_grade": "A"}) == (4, False, "e", "A", "")
    assert rating_value({"not_applicable": True, "evidence": "e"}) == (None, True, "e", "", "")


# -- rating writes ---------------------------------------------------------------------------------


def test_the_last_acknowledged_write_stored_passes():
    writes = [put(0, 1, started=0, ended=1, if_match='"a"'), put(1, 1, started=2, ended=3, if_match='"b"')]
    verdict = verify_writes(writes, state({"S7.1": value(1, 1)}), RUN)
    assert verdict.failures == 0
    assert verdict.counts[PUT, ACK] == 2


def test_an_older_acknowledged_value_stored_is_a_lost_write():
    # w0-s1 was acknowledged before w1-s1 was sent, so w1-s1 committed later and must be stored.
    writes = [put(0, 1, started=0, ended=1), put(1, 1, started=2, ended=3)]
    verdict = verify_writes(writes, state({"S7.1": value(0, 1)}), RUN)
    assert len(verdict.lost) == 1
    assert "w1-s1" in verdict.lost[0]


def test_overlapping_writes_may_commit_in_either_order():
    writes = [put(0, 1, started=0, ended=3), put(1, 1, started=1, ended=2)]
    assert verify_writes(writes, state({"S7.1": value(0, 1)}), RUN).failures == 0
    assert verify_writes(writes, state({"S7.1": value(1, 1)}), RUN).failures == 0


def test_the_value_from_before_the_run_still_stored_means_the_write_is_lost():
    writes = [put(0, 1, started=0, ended=1)]
    assert len(verify_writes(writes, state({"S7.1": DEMO}), RUN).lost) == 1
    assert len(verify_writes(writes, state({}), RUN).lost) == 1  # the rating is missing


def test_a_write_of_unknown_outcome_may_have_landed_or_not():
    acknowledged = put(0, 1, started=0, ended=1)
    unknown = put(1, 1, UNKNOWN, started=2, ended=3)
    landed = verify_writes([acknowledged, unknown], state({"S7.1": value(1, 1)}), RUN)
    assert landed.failures == 0
    assert (landed.unknown_landed, landed.superseded_by_unknown) == (1, 1)
    not_landed = verify_writes([acknowledged, unknown], state({"S7.1": value(0, 1)}), RUN)
    assert not_landed.failures == 0
    assert not_landed.unknown_undetermined == 1


def test_a_refused_write_stored_is_a_phantom():
    writes = [put(0, 1, REJECTED, started=0, ended=1)]
    assert len(verify_writes(writes, state({"S7.1": value(0, 1)}), RUN).phantom) == 1
    assert verify_writes(writes, state({"S7.1": DEMO}), RUN).failures == 0


def test_two_acknowledged_writes_on_one_if_match_version_are_a_lost_update():
    writes = [
        put(0, 1, started=0, ended=2, if_match='"v1"'),
        put(1, 1, started=1, ended=3, if_match='"v1"'),
        put(2, 1, REJECTED, started=1, ended=2, if_match='"v1"'),  # the 412 it should have been
    ]
    verdict = verify_writes(writes, state({"S7.1": value(1, 1)}), RUN)
    assert verdict.lost == []
    assert len(verdict.lost_updates) == 1
    assert "w0-s1, w1-s1" in verdict.lost_updates[0]


def test_creating_writes_without_if_match_are_not_counted_as_lost_updates():
    writes = [put(0, 1, started=0, ended=2), put(1, 1, started=1, ended=3)]
    assert verify_writes(writes, state({"S7.1": value(1, 1)}), RUN).lost_updates == []


def test_a_stored_value_no_write_sent_is_half_written():
    write = put(0, 1, started=0, ended=1, level=3)
    torn = (1, False, value(0, 1)[2], "B", "")  # its tag, another level
    assert len(verify_writes([write], state({"S7.1": torn}), RUN).half_written) == 1
    elsewhere = verify_writes([write], state({"S7.1": value(0, 1), "S7.2": value(0, 1)}), RUN)
    assert len(elsewhere.half_written) == 1  # the same write, stored under another criterion too


def test_a_write_killed_inside_its_transaction_must_not_be_stored():
    killed = put(1, 1, UNKNOWN, started=2, ended=3)
    writes = [put(0, 1, started=0, ended=1), killed]
    kills = [Kill(at=2.5, where=IN_TRANSACTION)]
    verdict = verify_writes(writes, state({"S7.1": value(0, 1)}), RUN, kills)
    assert (verdict.failures, verdict.killed_uncommitted, verdict.unknown_not_landed) == (0, 1, 1)
    stored = verify_writes(writes, state({"S7.1": value(1, 1)}), RUN, kills)
    assert len(stored.phantom) == 1


def test_a_kill_names_its_write_only_when_the_timing_is_unambiguous():
    one = put(0, 1, UNKNOWN, started=0, ended=2)
    other = put(1, 1, UNKNOWN, started=1, ended=3)
    answered = put(2, 1, started=0, ended=3)
    assert killed_uncommitted([one, answered], [Kill(1.5, IN_TRANSACTION)]) == {(0, 1)}
    assert killed_uncommitted([one, other], [Kill(1.5, IN_TRANSACTION)]) == set()
    assert killed_uncommitted([one], [Kill(1.5, "after its commit, before its answer")]) == set()
    assert killed_uncommitted([one], [Kill(5, IN_TRANSACTION)]) == set()


# -- project writes --------------------------------------------------------------------------------


def test_an_acknowledged_project_must_be_stored_whole():
    write = post(0, 1)
    assert verify_writes([write], state({}, **stored_post(write)), RUN).failures == 0
    assert len(verify_writes([write], state({}), RUN).lost) == 1
    partial = stored_post(write, ratings={"S7.1": write.value["S7.1"]})
    assert len(verify_writes([write], state({}, **partial), RUN).half_written) == 1
    two_cards = stored_post(write, history=2)
    assert len(verify_writes([write], state({}, **two_cards), RUN).half_written) == 1


def test_a_project_post_of_unknown_outcome_is_all_or_nothing():
    write = post(0, 1, UNKNOWN)
    absent = verify_writes([write], state({}), RUN)
    assert (absent.failures, absent.unknown_not_landed) == (0, 1)
    whole = verify_writes([write], state({}, **stored_post(write)), RUN)
    assert (whole.failures, whole.unknown_landed) == (0, 1)
    partial = stored_post(write, ratings={"D1": write.value["D1"]})
    assert len(verify_writes([write], state({}, **partial), RUN).half_written) == 1


def test_a_refused_project_post_stored_is_a_phantom():
    write = post(0, 1, REJECTED)
    assert len(verify_writes([write], state({}, **stored_post(write)), RUN).phantom) == 1


# -- processes and addresses -----------------------------------------------------------------------


# -- same-slug creates ----------------------------------------------------------------------------


def burst(writer, outcome, status=None, slug="proof-a1b2c3-b1"):
    write = post(writer, 1, outcome)
    write.kind, write.slug = BURST, slug
    write.status = status or write.status
    return write


def test_a_same_slug_burst_stores_its_one_winner():
    winner, losers = burst(1000, ACK), [burst(1001, REJECTED), burst(1002, REJECTED)]
    verdict = verify_writes([winner, *losers], state({}, **stored_post(winner)), RUN)
    assert verdict.failures == 0
    assert (verdict.bursts, verdict.bursts_created) == (1, 1)


def test_two_creates_of_one_slug_acknowledged_fail():
    first, second = burst(1000, ACK), burst(1001, ACK)
    verdict = verify_writes([first, second], state({}, **stored_post(first)), RUN)
    assert len(verdict.double_creates) == 1
    assert len(verdict.lost) == 0  # the first is stored; the second's 201 is the finding


def test_a_same_slug_post_refused_otherwise_than_409_fails():
    writes = [burst(1000, ACK), burst(1001, REJECTED, status=400)]
    verdict = verify_writes(writes, state({}, **stored_post(writes[0])), RUN)
    assert len(verdict.wrong_refusals) == 1


def test_a_loser_stored_over_the_winner_is_caught():
    winner, loser = burst(1000, ACK), burst(1001, REJECTED)
    verdict = verify_writes([winner, loser], state({}, **stored_post(loser)), RUN)
    assert len(verdict.phantom) == 1
    missing = verify_writes([winner, loser], state({}), RUN)
    assert len(missing.lost) == 1


def test_a_burst_of_unknown_outcomes_stores_one_of_them_or_none():
    one, other = burst(1000, UNKNOWN), burst(1001, UNKNOWN)
    landed = verify_writes([one, other], state({}, **stored_post(other)), RUN)
    assert (landed.failures, landed.unknown_landed, landed.unknown_not_landed) == (0, 1, 1)
    none = verify_writes([one, other], state({}), RUN)
    assert (none.failures, none.unknown_not_landed, none.bursts_created) == (0, 2, 0)


# -- project PUT and PATCH ---------------------------------------------------------------------------


def fact(writer, seq, outcome=ACK, *, started, ended, if_match=None, kind=PATCH, slug="moxie"):
    summary = f"{tag_for(RUN, writer, seq)} Summary rewritten through the API."
    status = {ACK: 200, REJECTED: 412, UNKNOWN: None}[outcome]
    return Write(writer, seq, kind, slug, SUMMARY, summary, if_match=if_match, started=started, ended=ended,
                 outcome=outcome, status=status)  # fmt: skip


def with_summary(summary: str) -> dict:
    dumped = state({})
    dumped["moxie"]["summary"] = summary
    return dumped


def test_the_last_acknowledged_project_write_is_the_working_summary():
    writes = [
        fact(0, 1, started=0, ended=1, if_match='"a"'),
        fact(1, 1, started=2, ended=3, kind=PROJECT_PUT),
    ]
    assert verify_writes(writes, with_summary(writes[1].value), RUN).failures == 0
    lost = verify_writes(writes, with_summary(writes[0].value), RUN)
    assert len(lost.lost) == 1 and "w1-s1" in lost.lost[0]
    untouched = verify_writes(writes, with_summary("The summary from before the run."), RUN)
    assert len(untouched.lost) == 2


def test_two_project_writes_acknowledged_on_one_etag_are_a_lost_update():
    writes = [
        fact(0, 1, started=0, ended=2, if_match='"v7"'),
        fact(1, 1, started=1, ended=3, if_match='"v7"', kind=PROJECT_PUT),
    ]
    verdict = verify_writes(writes, with_summary(writes[1].value), RUN)
    assert len(verdict.lost_updates) == 1


def test_a_project_write_refused_with_412_yet_stored_is_a_phantom():
    write = fact(0, 1, REJECTED, started=0, ended=1, if_match='"old"')
    assert len(verify_writes([write], with_summary(write.value), RUN).phantom) == 1


def test_a_summary_rewritten_after_a_post_is_no_half_written_post():
    created = post(0, 1)
    created.summary = f"{tag_for(RUN, 0, 1)} A synthetic project."
    rewrite = fact(0, 2, started=2, ended=3, slug=created.slug)
    dumped = state({}, **stored_post(created, history=2))  # the PATCH rescored it
    dumped[created.slug]["summary"] = rewrite.value
    assert verify_writes([created, rewrite], dumped, RUN).failures == 0
    dumped[created.slug]["summary"] = created.summary  # the PATCH's acknowledged summary is gone
    assert len(verify_writes([created, rewrite], dumped, RUN).lost) == 1


# -- draft leaks -------------------------------------------------------------------------------------


def test_a_public_answer_with_a_draft_marker_is_a_leak():
    check = LeakCheck(RUN)
    check.check("anonymous", "/en/", b"<h1>MOXIE</h1>")
    check.check("read key", "/api/v1/projects", f'{{"name": "{draft_marker(RUN, 2, 9)} x"}}'.encode())
    check.check("anonymous", "/api/v1/export/projects.json", f"{draft_marker('ffffff', 2, 9)}".encode())
    assert check.reads == 3 and check.checked["anonymous"] == 2
    assert len(check.leaks) == 1 and "read key GET /api/v1/projects" in check.leaks[0]


def test_a_cut_off_draft_marker_still_counts():
    check = LeakCheck(RUN)
    check.check("anonymous", "/en/", f"<p>[draft-marker {RUN} w1-…</p>".encode())
    assert len(check.leaks) == 1


def test_the_analysts_markers_may_show_only_once_published():
    check = LeakCheck(RUN)
    body = f"<p>{published_marker(RUN, 4)} Revised.</p><p>{published_marker(RUN, 7)} Re-assessed.</p>"
    check.check("anonymous", "/en/projects/moxie/", body.encode())
    assert check.leaks == []
    assert check.unpublished_shown({4, 7, 9}) == []
    shown = check.unpublished_shown({4})
    assert len(shown) == 1 and "a7]" in shown[0]


def test_markers_of_a_publication_attempt_count_unless_it_was_refused():
    events = [
        {"number": 1, "outcome": "attempt", "markers": [1, 2]},
        {"number": 1, "outcome": "published #2"},
        {"number": 2, "outcome": "attempt", "markers": [3]},
        {"number": 2, "outcome": "outdated"},
        {"number": 3, "outcome": "attempt", "markers": [4]},
        {"number": 3, "outcome": "database error", "error": "OperationalError"},  # it may have committed
        {"number": 4, "outcome": "attempt", "markers": [5]},
        {"number": 4, "outcome": "nothing to publish"},
        {"number": 5, "outcome": "moved while previewed"},
    ]
    assert published_markers(events) == {1, 2, 4}


# -- server errors and shortfalls ------------------------------------------------------------------


LOG = """[2026-01-01 10:00:00 +0000] [11] [INFO] Booting worker with pid: 11
Internal Server Error: /api/v1/projects/moxie
Traceback (most recent call last):
  File "x.py", line 1, in f
psycopg.errors.AdminShutdown: terminating connection due to administrator command

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "y.py", line 2, in g
django.db.utils.OperationalError: terminating connection due to administrator command
server closed the connection unexpectedly
Not Found: /api/v1/projects/nothing
Internal Server Error: /en/
Traceback (most recent call last):
  File "z.py", line 3, in h
ValueError: Missing staticfiles manifest entry for 'web/icon.svg'
[2026-01-01 10:00:01 +0000] [10] [ERROR] Worker (pid:11) was sent SIGKILL! Perhaps out of memory?
Internal Server Error: /api/v1/rankings
"""


def test_logged_errors_name_the_last_exception_of_each_500():
    assert logged_errors(LOG) == ["django.db.utils.OperationalError", "ValueError", "unknown"]
    assert logged_errors("Not Found: /x\n") == []


def test_too_few_kills_inside_a_write_transaction_proved_nothing():
    args = parse_args(["--kills", "3", "--min-in-transaction", "2", "--db-faults", "2"])
    inside, after = Kill(1, IN_TRANSACTION), Kill(2, "after its commit, before its answer")
    assert faults_shortfall(args, [inside, inside, after], [inside, after], alive=3) == []
    short = faults_shortfall(args, [inside, after, after], [after, after], alive=3)
    assert any("1 kills landed inside a write transaction, fewer than 2" in line for line in short)
    assert any("no backend was terminated inside" in line for line in short)
    assert faults_shortfall(args, [inside, inside], [inside, after], alive=2) == [
        "2 of 3 kills done",
        "2 of 3 workers alive at the end",
    ]


def test_parse_stat_reads_state_and_parent_even_with_odd_names():
    assert parse_stat("4242 (gunicorn: worker [sdg]) S 4200 4242 4242 0 -1") == ("S", 4200)
    assert parse_stat("4243 (a) b) c) Z 1 4243") == ("Z", 1)
    assert parse_stat("garbage") is None


def test_socket_inodes_match_local_and_remote_ports():
    table = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
        "   0: 0100007F:D431 0100007F:1538 01 00000000:00000000 00:00000000 00000000  1000        0 987654\n"
        "   1: 0100007F:1538 0100007F:D431 01 00000000:00000000 00:00000000 00000000   104        0 123456\n"
    )
    assert socket_inodes(table, 0xD431, 5432) == {987654}
    assert socket_inodes(table, 5432, 0xD431) == {123456}
    assert socket_inodes(table, 1, 5432) == set()


def test_only_loopback_databases_are_accepted():
    assert loopback_url("postgres://postgres@127.0.0.1:5432/x", "--database-url")
    for url in [
        "postgres://postgres@localhost:5432/x",
        "postgres://postgres@10.0.0.5/x",
        "postgres://postgres@[::1]/x",
        "sqlite:///tmp/x.sqlite3",
    ]:
        with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
            loopback_url(url, "--database-url")


def test_with_database_replaces_only_the_name():
    assert with_database("postgres://u@127.0.0.1:5432", "p1") == "postgres://u@127.0.0.1:5432/p1"
    assert with_database("postgres://u@127.0.0.1:5432/old?sslmode=disable", "p2") == (
        "postgres://u@127.0.0.1:5432/p2?sslmode=disable"
    )


def test_arguments_are_bounded():
    args = parse_args(["--seconds", "20", "--kills", "3"])
    assert (args.seconds, args.kills, args.workers) == (20, 3, 3)
    with pytest.raises(SystemExit):
        parse_args(["--seconds", "0"])
    with pytest.raises(SystemExit):
        parse_args(["--kills", "1", "--min-in-transaction", "2"])
