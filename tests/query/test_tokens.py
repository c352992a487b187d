from hypothesis import given, settings
from hypothesis import strategies as st

from app.query import tokenize
from app.query.tokens import _split, _tokenize_py


def test_splits_on_punctuation_and_symbols():
    assert tokenize("Espresso-based, (really)! latte/art") == ["espresso", "based", "really", "latte", "art"]


def test_case_and_accents_are_folded():
    assert tokenize("Café CRÈME naïve Straße") == ["cafe", "creme", "naive", "strasse"]


def test_hashtags_and_mentions_in_text_give_their_words():
    assert tokenize("#coffee with @alice.bsky.social") == ["coffee", "with", "alice", "bsky", "social"]


def test_links_in_text_add_no_tokens():
    text = "read https://t.co/AbC123?utm=x and HTTP://Example.com/x www.shop.example/deal now"
    assert tokenize(text) == ["read", "and", "now"]


def test_digits_and_compatibility_forms():
    fullwidth = "ｆｕｌｌ"  # noqa: RUF001 - on purpose: fullwidth letters fold to ASCII
    assert tokenize(f"{fullwidth} width ﬁne 2024 x²") == ["full", "width", "fine", "2024", "x2"]


def test_unspaced_scripts_are_one_token_per_ideograph():
    assert tokenize("東京タワー") == ["東", "京", "タ", "ワ", "ー"]


def test_underscore_separates():
    assert tokenize("our_uni") == ["our", "uni"]


def test_empty_and_punctuation_only():
    assert tokenize("") == []
    assert tokenize("!!! ... ---") == []


_PIECES = ["a", "Z", "é", "É", "ß", "ñ", "1", "_", "-", ".", ",", "#", "@", "'", "\u2019", "東", "ー", "ﬁ", "²", "😀",
           "\u0301", " ", " ", "\n", "\u00a0", "http://", "WWW.", "www", "/", ":", "HTTPS://", "ftp://", "h",
           "¨", "…", "«", "ø", "Ω", "가", "ǆ", "⑳", "\x1c", "\x01", "\u3000", "🄰", "\uff41", "Ё", "ـ", "ี", "ㄱ",
           "ᅡ", "ß", "İ", "ﷺ", "\u0640", "٣", "\u200d"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_chunked_tokenizers_equal_the_plain_one(text):
    """The tokenizer in use (C when built), the chunked one in Python and the plain one agree."""
    assert tokenize(text) == _split(text)
    assert _tokenize_py(text) == _split(text)
    assert tokenize(text) == tokenize(text)  # and again, from the memo
