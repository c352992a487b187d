import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.query import QuerySyntaxError, normalize, parse, validate
from app.query.nodes import (
    And,
    Followers,
    From,
    Has,
    Hashtag,
    Is,
    Lang,
    MatchAll,
    Mention,
    Not,
    Or,
    Phrase,
    To,
    Url,
    Word,
)


def test_every_term_form():
    node = parse('Espresso "Latte Art" #Coffee @Barista.bsky.social from:@Alice to:bob url:Example.com')
    assert node == And((
        Word("espresso"), Phrase(("latte", "art")), Hashtag("coffee"), Mention("barista.bsky.social"),
        From("alice"), To("bob"), Url("example.com"),
    ))


def test_narrowing_operators():
    node = parse("a lang:pt-BR is:retweet is:quote is:bot is:reply has:links has:media followers_count:500")
    assert node.children[1:] == (
        Lang("pt-br"), Is("repost"), Is("quote"), Is("bot"), Is("reply"), Has("links"), Has("media"),
        Followers(500),
    )
    assert parse("a followers_count:100..5000").children[1] == Followers(100, 5000)


def test_and_binds_tighter_than_or():
    assert parse("a b OR c") == parse("(a b) OR c") == Or((And((Word("a"), Word("b"))), Word("c")))
    assert parse("a b OR c") != parse("a (b OR c)")


def test_explicit_and_is_the_same_as_juxtaposition():
    assert parse("a AND b") == parse("a b")


def test_lowercase_or_is_a_word():
    assert parse("tea or coffee") == And((Word("tea"), Word("or"), Word("coffee")))


def test_negation_of_terms_and_groups():
    assert parse("a -b") == And((Word("a"), Not(Word("b"))))
    assert parse("a -(b OR c)") == And((Word("a"), Not(Or((Word("b"), Word("c"))))))
    assert parse('a -"b c"') == And((Word("a"), Not(Phrase(("b", "c")))))
    assert parse("a -(-b)") == And((Word("a"), Word("b")))


def test_word_with_inner_punctuation_is_a_phrase():
    assert parse("Espresso-based") == Phrase(("espresso", "based"))
    assert parse('"espresso"') == Word("espresso")


def test_nested_groups_flatten():
    assert parse("(a OR b) OR c") == Or((Word("a"), Word("b"), Word("c")))
    assert parse("(a b) c") == And((Word("a"), Word("b"), Word("c")))


def test_handles_ids_and_remote_accounts():
    assert parse("from:did:plc:Abc") == From("did:plc:abc")
    assert parse("@alice@mastodon.social") == Mention("alice@mastodon.social")


def test_url_accepts_a_pasted_scheme_and_trailing_slash():
    assert parse("url:https://www.Example.com/") == Url("www.example.com")


def test_curly_quotes_work_like_straight_ones():
    assert parse("\u201clatte art\u201d") == Phrase(("latte", "art"))


def test_standalone_rule():
    for query in ["espresso lang:it", "#coffee -is:reply", "from:alice has:media", "url:x.com", "a OR b -c"]:
        parse(query)
    for query in ["lang:it", "-espresso", "-#coffee -is:reply", "is:reply has:links", "espresso OR lang:it",
                  "(a OR lang:it) OR b", "a OR -b"]:
        with pytest.raises(QuerySyntaxError):
            parse(query)


def test_standalone_rule_accepts_an_anchor_beside_an_unanchored_or():
    parse("(espresso OR lang:it) latte")


def test_scoped_rules_may_only_narrow_or_be_empty():
    assert parse("", scoped=True) == MatchAll()
    assert parse("   ", scoped=True) == MatchAll()
    assert parse("lang:it -is:reply", scoped=True) == And((Lang("it"), Not(Is("reply"))))
    assert parse("-spam", scoped=True) == Not(Word("spam"))


@pytest.mark.parametrize(
    ("query", "position", "fragment"),
    [
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("espresso foo:bar", 9, "unknown operator 'foo:'"),
        ("a is:cat", 5, "is: takes"),
        ("a has:images", 6, "has: takes"),
        ("(a OR b", 0, "unclosed '('"),
        ("a OR b)", 6, "unmatched ')'"),
        ('a "latte art', 2, "unclosed quote"),
        ("a OR", 2, "OR needs"),
        ("OR a", 0, "OR needs"),
        ("a OR OR b", 2, "OR needs"),
        ("(OR a)", 1, "OR needs"),
        ("a ()", 2, "empty group"),
        ("a AND", 2, "AND needs"),
        ("a followers_count:12x", 20, "not a digit"),
        ("a followers_count:500..", 23, "number is missing"),
        ("a followers_count:900..100", 18, "empty range"),
        ("a followers_count:", 18, "needs a value"),
        ("a - b", 2, "'-' must be followed"),
        ("a --b", 3, "negated only once"),
        ("a -)", 2, "'-' must be followed"),
        ("a #", 2, "'#' needs"),
        ("#cof-fee", 4, "cannot be part of a hashtag"),
        ("a @", 2, "'@' needs"),
        ("@.alice", 1, "cannot be part of a handle"),
        ("from:alice.", 10, "cannot end"),
        ("a url:example.com/path", 17, "no path"),
        ("a url:example.com:8080", 17, "no path, no port"),
        ("a url:exa..mple.com", 6, "host name"),
        ("a lang:english", 7, "language code"),
        ("!!!", 0, "no letters or digits"),
        ('a ""', 2, "no letters or digits"),
        ("lang:it", 0, "only narrow"),
        ("-espresso -latte", 0, "negated"),
        ("espresso OR lang:it", 12, "side of OR"),
        ("espresso OR -latte", 12, "side of OR"),
        ("(" * 40 + "a" + ")" * 40, 32, "nest"),
        ("a " * 1100, 2048, "at most"),
    ],
)
def test_malformed_queries_report_message_and_position(query, position, fragment):
    with pytest.raises(QuerySyntaxError) as caught:
        parse(query)
    assert caught.value.position == position
    assert fragment in caught.value.message
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "query",
    [
        "a b OR c",
        "a (b OR c) -(d e) -f",
        '"Latte  Art" #Café @Alice from:bob to:carol url:Sub.Example.com lang:PT_br',
        "x is:retweet has:mentions followers_count:10..20 followers_count:5",
        "(a OR b) (c OR -d e)",
        "Espresso-based OR tea AND milk",
    ],
)
def test_normalize_round_trips(query):
    text = normalize(parse(query))
    assert parse(text) == parse(query)
    assert normalize(parse(text)) == text


def test_normalize_is_canonical():
    assert normalize(parse("  Café   AND (tea OR  (milk OR sugar)) -( #X )")) == "cafe (tea OR milk OR sugar) -#x"
    assert normalize(parse("", scoped=True)) == ""


def test_validate_returns_normalized_text_or_raises():
    assert validate("Espresso  OR Latte") == "espresso OR latte"
    assert validate("lang:it", scoped=True) == "lang:it"
    with pytest.raises(QuerySyntaxError):
        validate("lang:it")


def test_error_to_dict():
    with pytest.raises(QuerySyntaxError) as caught:
        parse("a OR")
    assert caught.value.to_dict() == {"message": caught.value.message, "position": 2}


_QUERY_PIECES = [*'ab(")-#@:. ', "OR", "AND", "from:", "lang:en", "is:reply", "url:x.com", "followers_count:1..2",
                 "é", "½", "_", "东京"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_QUERY_PIECES), max_size=20).map("".join), st.booleans())
def test_any_text_parses_or_fails_with_a_position_inside_it(query, scoped):
    try:
        node = parse(query, scoped=scoped)
    except QuerySyntaxError as error:
        assert 0 <= error.position <= len(query)
        return
    assert parse(normalize(node), scoped=True) == node
