"""The load-and-faults proof's own logic, on hand-made inputs (no server, no database)."""

import http.client

import pytest

from proof.load_faults import (
    ACK,
    IN_TRANSACTION,
    POST,
    PUT,
    REJECTED,
    UNKNOWN,
    Kill,
    Write,
    error_kind,
    killed_uncommitted,
    loopback_url,
    parse_args,
    parse_stat,
    parse_tag,
    rating_value,
    socket_inodes,
    tag_for,
    verify_writes,
    with_database,
    write_outcome,
)

RUN = "a1b2c3"
DEMO = (2, False, "Illustrative judgement.", "C", "")


def value(writer, seq, level=3):
    return rating_value(
        {"rating": level, "evidence": f"Load proof {tag_for(RUN, writer, seq)}: x.", "evidence_grade": "B"}
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


def test_tags_name_the_write_of_this_run_only():
    assert parse_tag(f"Load proof {tag_for(RUN, 3, 41)}: level 2.", RUN) == (3, 41)
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
