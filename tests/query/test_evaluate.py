from app.query import (
    explain,
    matches,
    parse,
    positive_authors,
    positive_hashtags,
    prepare,
)
from tests.query.posts import make_post


def holds(query, post, scoped=False):
    return matches(parse(query, scoped=scoped), post)


def test_words_are_whole_tokens_case_and_accent_insensitive():
    post = make_post("Un CAFÉ espresso-based, s'il vous plaît")
    assert holds("cafe", post) and holds("Café", post) and holds("ESPRESSO", post) and holds("plait", post)
    assert not holds("espress", post)


def test_phrases_need_consecutive_tokens_in_order():
    post = make_post("Best latte art in town; art latte too")
    assert holds('"latte art"', post)
    assert holds('"LATTE-ART in"', post)
    assert not holds('"latte town"', post)
    assert not holds('"in art"', post)


def test_hashtag_is_exact_and_not_the_bare_word():
    tagged = make_post("morning brew", hashtags=["Coffee"])
    bare = make_post("I love coffee and #coffeetime")
    assert holds("#coffee", tagged) and holds("#COFFEE", tagged)
    assert not holds("#coffee", bare)
    assert holds("coffee", bare)
    assert not holds("coffee", tagged)


def test_hashtag_accents_are_folded_like_mastodon():
    assert holds("#cafe", make_post("x", hashtags=["#Café"]))
    assert holds("#café", make_post("x", hashtags=["cafe"]))


def test_mentions_strip_the_at_and_ignore_case():
    post = make_post("hi", mentions=["@Alice.bsky.social", "bob"])
    assert holds("@alice.bsky.social", post) and holds("@BOB", post)
    assert not holds("@alice", post)


def test_from_matches_handle_or_author_id():
    post = make_post("x", handle="@Alice", author_id="did:plc:XYZ")
    assert holds("from:alice", post) and holds("from:@ALICE", post) and holds("from:did:plc:xyz", post)
    assert not holds("from:bob", post)


def test_to_matches_the_replied_author():
    post = make_post("x", is_reply=True, reply_to_author="Carol")
    assert holds("to:carol", post)
    assert not holds("to:dave", post)
    assert not holds("to:carol", make_post("x"))


def test_lang_with_regional_variants():
    assert holds("x lang:pt", make_post("x", lang="pt-BR"))
    assert holds("x lang:pt-br", make_post("x", lang="pt_BR"))
    assert not holds("x lang:pt-br", make_post("x", lang="pt"))
    assert not holds("x lang:it", make_post("x", lang="en"))


def test_is_and_has():
    post = make_post("x", is_reply=True, is_repost=False, is_quote=True, author={"is_bot": True},
                     urls=["https://a.com"], media_count=2, hashtags=["t"], mentions=["m"])
    for query in ["x is:reply", "x is:quote", "x is:bot", "x has:links", "x has:media", "x has:hashtags",
                  "x has:mentions", "x -is:repost", "x -is:retweet"]:
        assert holds(query, post), query
    bare = make_post("x", is_reply=False, media_count=0)
    for query in ["x is:reply", "x has:links", "x has:media", "x has:hashtags", "x has:mentions"]:
        assert not holds(query, bare), query


def test_unknown_fields_never_satisfy_a_positive_test():
    post = make_post("x")  # lang, is_*, media_count, followers_count all unknown
    for query in ["x lang:it", "x is:reply", "x is:repost", "x is:quote", "x is:bot", "x has:media",
                  "x followers_count:0", "x followers_count:0..10"]:
        assert not holds(query, post), query
        negated = query.replace("x ", "x -")
        assert holds(negated, post), negated


def test_url_matches_the_host_and_its_sub_hosts_only():
    post = make_post("x", urls=["https://blog.Example.com/post?id=1", "shop.other.org/x"])
    assert holds("url:example.com", post) and holds("url:blog.example.com", post)
    assert holds("url:other.org", post) and holds("url:com", post)
    assert not holds("url:ample.com", post)
    assert not holds("url:www.example.com", post)
    assert not holds("example", post)  # links are not words


def test_followers_at_least_and_within():
    post = make_post("x", author={"followers_count": 500})
    assert holds("x followers_count:500", post) and holds("x followers_count:100..500", post)
    assert not holds("x followers_count:501", post) and not holds("x followers_count:0..499", post)


def test_precedence_and_negated_groups():
    post = make_post("a c")
    assert holds("a b OR c", post)
    assert not holds("a (b OR d)", post)
    assert holds("a -(b OR d)", post)
    assert not holds("a -(b OR c)", post)
    assert holds("a -(b c)", post)


def test_scoped_empty_query_matches_everything():
    assert holds("", make_post(""), scoped=True)


def test_matches_accepts_a_prepared_post():
    prepared = prepare(make_post("espresso"))
    assert prepare(prepared) is prepared
    assert matches(parse("espresso"), prepared)


def test_explain_lists_leaves_in_order_with_negation():
    post = make_post("espresso please", lang="it", is_reply=True)
    result = explain(parse("(espresso OR latte) lang:it -is:reply -(decaf OR tea)"), post)
    assert result.matched is False
    assert result.to_dict() == {
        "matched": False,
        "terms": [
            {"term": "espresso", "held": True},
            {"term": "latte", "held": False},
            {"term": "lang:it", "held": True},
            {"term": "-is:reply", "held": False},
            {"term": "-decaf", "held": True},
            {"term": "-tea", "held": True},
        ],
    }


def test_explain_of_a_match():
    result = explain(parse('"latte art" #coffee'), make_post("Latte-art!", hashtags=["coffee"]))
    assert result.matched is True
    assert [(t.term, t.held) for t in result.terms] == [('"latte art"', True), ("#coffee", True)]


def test_positive_hashtags_and_authors():
    node = parse("(#coffee OR #Tea from:alice) -#decaf -from:bob (#coffee OR from:carol)")
    assert positive_hashtags(node) == ["coffee", "tea"]
    assert positive_authors(node) == ["alice", "carol"]
