"""One filter syntax on every edge: `followers:10k-100k er:>2 lang:en` in Slack is
`--followers 10k-100k --er 2 --lang en` on every CLI command that filters, parsed by one
function; the old per-bound flags still work with a one-line note on stderr (never on
stdout, which `--json` keeps pure JSON); numbers too large for any audience are refused
in one line instead of overflowing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text

from bot.parsing import parse_lookalike, parse_topic
from engine.cli import main
from engine.core.errors import BadQuery
from engine.core.filters import CLI, SLACK, Filters, parse_count, parse_filters

RANGES = [
    ("10k-100k", (10_000, 100_000)),
    ("10k+", (10_000, None)),
    (">10k", (10_000, None)),
    (">=1.5m", (1_500_000, None)),
    ("<1m", (None, 1_000_000)),
    ("<=50,000", (None, 50_000)),
    ("5000", (5_000, None)),
]


@pytest.mark.parametrize(("value", "bounds"), RANGES)
def test_slack_and_cli_read_every_range_form_the_same(value, bounds):
    slack = parse_filters({"followers": value}, SLACK)
    cli = parse_filters({"followers": value}, CLI)
    assert slack == cli
    assert (slack.followers_min, slack.followers_max) == bounds
    assert parse_lookalike(f"@ana followers:{value}").filters == slack
    assert parse_topic(f"#food followers:{value}").filters == slack


def test_er_and_language_have_one_form_each():
    want = Filters(min_er=2.0, language="en")
    for er in (">2", "2+", "2", "2%", ">=2"):
        assert parse_filters({"er": er, "lang": "English"}) == want
    assert parse_filters({"lang": "  "}) == Filters()  # an empty lang: does not filter
    assert parse_filters({"followers": None, "er": None}) == Filters()


@pytest.mark.parametrize(
    ("options", "slack_says", "cli_says"),
    [
        ({"followers": "abc"}, "`followers:abc` is not a range", "`--followers abc` is not"),
        ({"followers": "100k-10k"}, "did you mean `followers:10k-100k`", "`--followers 10k-100k`"),
        ({"er": "<3"}, "minimum engagement rate in percent, like `er:>2`", "like `--er 2`"),
        ({"er": "1-3"}, "minimum engagement rate", "minimum engagement rate"),
        ({"lang": "klingon"}, "not a language I know", "not a language I know"),
    ],
)
def test_each_edge_is_told_in_its_own_spelling(options, slack_says, cli_says):
    with pytest.raises(BadQuery) as slack:
        parse_filters(options, SLACK)
    with pytest.raises(BadQuery) as cli:
        parse_filters(options, CLI)
    assert slack_says in str(slack.value)
    assert cli_says in str(cli.value)
    assert "\n" not in str(slack.value) + str(cli.value)


HUGE = [
    "1" + "0" * 400,  # float() of it is inf: int(round(inf)) overflowed
    "99999999999999999999999k",
    "1e400",
    "2000000000000000",  # a plain number past any audience
    "10k-" + "9" * 400 + "b",
]


@pytest.mark.parametrize("value", HUGE)
def test_huge_filter_numbers_are_one_line_errors(value):
    with pytest.raises(BadQuery) as err:
        parse_lookalike(f"@ana followers:{value}")
    assert "is not a range" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("value", ["1e400", "inf", "nan", "-1", "1" + "0" * 400])
def test_er_must_be_a_finite_percentage(value):
    with pytest.raises(BadQuery, match="er"):
        parse_filters({"er": value})


def test_huge_counts_and_k_are_refused_not_overflowed():
    for value in (10**400, "1" + "0" * 400 + "k", 10**16):
        with pytest.raises(BadQuery, match="implausibly large"):
            parse_count(value)
    assert parse_count(10**15) == 10**15  # the largest accepted
    with pytest.raises(BadQuery, match="between 1 and 100"):
        parse_lookalike("@ana 99999999999999999999999")
    with pytest.raises(BadQuery, match="between 1 and 100"):
        parse_topic("#food k:99999999999999999999999")
    with pytest.raises(BadQuery, match="did not understand"):
        parse_topic("#food k:" + "9" * 5000)  # past Python's digit limit for int()


# ---------------------------------------------------------------- the CLI, as typed


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def _followers(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("select handle, followers from influencers")).all()
    engine.dispose()
    return dict(rows)


def _first_handle(url: str) -> str:
    return min(_followers(url))


@pytest.fixture
def demo_url(trained_demo_db) -> str:
    return f"sqlite:///{trained_demo_db}"


@pytest.mark.parametrize(
    ("command", "new", "old", "note"),
    [
        ("lookalike", ["--followers", "10k-100k"], ["--followers-min", "10000", "--followers-max", "100000"],
         "--followers-min --followers-max are deprecated, write --followers 10000-100000"),
        ("topic", ["--followers", "10k-100k"], ["--followers-min", "10k", "--followers-max", "100k"],
         "write --followers 10k-100k"),
        # the fast lane keeps the two above; the rest answer 3 CLI queries each (~5-15 s)
        pytest.param("topic", ["--followers", "20k+"], ["--followers-min", "20000"],
         "--followers-min is deprecated, write --followers 20000+", marks=pytest.mark.slow),
        pytest.param("topic", ["--er", "3"], ["--min-er", "3"], "--min-er is deprecated, write --er 3",
         marks=pytest.mark.slow),
        pytest.param("lookalike", ["--lang", "en"], ["--language", "english"],
         "--language is deprecated, write --lang english", marks=pytest.mark.slow),
    ],
)  # fmt: skip
def test_old_flags_answer_the_same_with_a_note_on_stderr(demo_url, capsys, command, new, old, note):
    subject = _first_handle(demo_url) if command == "lookalike" else "#food #tech"
    base = [command, subject, "-k", "20", "--db", demo_url, "--json"]
    code, out_new, err_new = _cli(capsys, *base, *new)
    assert code == 0, err_new
    assert err_new == ""  # the new form has nothing to say
    code, out_old, err_old = _cli(capsys, *base, *old)
    assert code == 0, err_old
    assert json.loads(out_old) == json.loads(out_new)  # stdout stays pure JSON
    assert err_old.startswith("note: ") and err_old.count("\n") == 1
    assert note in err_old  # the note says what to write instead
    code, out_all, _ = _cli(capsys, *base)
    assert json.loads(out_all) != json.loads(out_new)  # the filter did narrow the answer


def test_the_range_filter_keeps_only_creators_inside_it(demo_url, capsys):
    followers = _followers(demo_url)
    for command, subject in (("lookalike", _first_handle(demo_url)), ("topic", "#food")):
        args = [command, subject, "-k", "50", "--followers", "10k-50k", "--json"]
        code, out, err = _cli(capsys, *args, "--db", demo_url)
        assert code == 0, err
        ids = [r["id"] for r in json.loads(out)["results"]]
        assert ids and all(10_000 <= followers[h] <= 50_000 for h in ids)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--followers", "100k-10k"], "did you mean `--followers 10k-100k`?"),
        (["--followers", "1" + "0" * 400], "is not a range"),
        (["--followers", "99999999999999999999999k"], "is not a range"),
        (["--er", "1e400"], "`--er 1e400` is not a range"),
        (["--followers", "10k+", "--followers-min", "5"], "not both"),
        (["-k", "99999999999999999999999"], "between 1 and 100"),
    ],
)
def test_cli_filter_mistakes_are_one_line(demo_url, capsys, args, says):
    for command, subject in (("lookalike", _first_handle(demo_url)), ("topic", "#food")):
        code, out, err = _cli(capsys, command, subject, "--db", demo_url, *args)
        assert code == 2 and out == ""
        assert err.startswith("error: ") and err.count("\n") == 1 and says in err, err
