"""Which stop word a mention says: whole words and hashtags, case-insensitive; mentions and links are not words."""

import pytest

from app.engine.stop_words import stop_word_in

DEFAULT = ["stop", "#nobot", "unsubscribe"]


@pytest.mark.parametrize(("text", "said"), [
    ("@bot stop", "stop"), ("STOP please", "stop"), ("#nobot", "#nobot"), ("@bot #Stop!", "stop"),
    ("Unsubscribe.", "unsubscribe"), ("@bot@mastodon.social stop", "stop"), ("stop, please", "stop"),
    ("stopping by", None), ("nonstop", None), ("non-stop", None), ("stop-gap", None), ("@stop hi", None),
    ("see https://x.example/stop", None), ("nobot here", None), ("", None),
])
def test_the_default_words(text, said):
    assert stop_word_in(text, DEFAULT) == said


def test_own_words_in_any_script_and_the_first_one_listed_wins():
    assert stop_word_in("Arrête, basta!", ["basta", "arrête"]) == "basta"
    assert stop_word_in("ARRÊTE", ["arrête"]) == "arrête"
    assert stop_word_in("stop #nobot", ["#nobot", "stop"]) == "#nobot"
