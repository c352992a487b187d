"""Benchmark of rule matching: the compiled index, the reference evaluator and the bare floor.

    python bench/match.py            # 100 / 1,000 / 10,000 / 100,000 rules (a few minutes)
    python bench/match.py --quick    # a small smoke run

Posts and rules come from a seeded generator (Zipf vocabularies in seven languages, hashtags,
mentions, links, 10-280 characters), so every run sees the same data. Everything runs on one
core. The reference evaluator stops after a time budget per size; its figures then come from
the posts it reached (say so in the output). The bare floor is: tokenize the post's text and
make one dictionary look-up per token, no rule logic at all.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.platforms.base import Author, Post
from app.query import Node, RuleIndex, matches, parse, prepare, tokenize
from app.query.tokens import fold_handle

Scope = "None | str | list[str]"

# --- the seeded corpus -------------------------------------------------------------------------

LANGS = {"en": 0.40, "es": 0.15, "pt": 0.12, "fr": 0.10, "de": 0.08, "it": 0.07, "ja": 0.08}
VOWELS = {
    "en": "aeiouy", "es": "aeiouáéíóú", "pt": "aeiouãõáéêç", "fr": "aeiouéèêàç",
    "de": "aeiouäöüß", "it": "aeiouàèìò",
}
CONSONANTS = "bcdfghjklmnprstvwz"
# Japanese: kana (the commonest characters) then 2,000 kanji, drawn with Zipf frequencies.
KANA = [chr(c) for c in range(0x3041, 0x3097)] + [chr(c) for c in range(0x4E00, 0x4E00 + 2000)]
VOCAB = 30_000
USERS = 200_000
TAGS = 30_000
HOSTS = 500
PHRASES = 2_000
TLDS = ["com", "org", "net", "de", "fr", "it", "com.br", "co.jp", "io", "news"]


def zipf_weights(n: int, s: float = 1.05, q: float = 2.7) -> list[float]:
    """Cumulative Zipf-Mandelbrot weights for ranks 1..n (a larger q flattens the head)."""
    return list(accumulate(1 / (rank + q) ** s for rank in range(1, n + 1)))


KANA_CUM = zipf_weights(len(KANA), 1.0, 10)


# Kinds of rules, in percent; most also carry lang:/is:/has:/followers_count: narrowing.
RULE_MIX = {
    "word": 28, "tag": 21, "or": 15, "author": 10, "phrase": 10, "negation": 7, "scoped": 5, "mention": 3, "url": 1,
}


def log_uniform(rng: random.Random, low: int, high: int) -> int:
    """A 0-based rank drawn log-uniformly from [low, high): how rule authors pick their terms."""
    return int(low * (high / low) ** rng.random()) - 1


class Corpus:
    """Vocabularies, people, tags and hosts; posts and rules drawn from them, reproducibly."""

    def __init__(self, seed: int):
        rng = random.Random(seed)
        self.vocab = {lang: self._vocabulary(rng, lang) for lang in LANGS}
        self.cum = zipf_weights(VOCAB)
        self.users = [self._name(rng, "en") + str(i) for i in range(USERS)]
        self.user_cum = zipf_weights(USERS, 1.0, 100)
        words = [w for lang in ("en", "es", "it", "fr") for w in self.vocab[lang][200:20000]]
        self.tags = list(dict.fromkeys(rng.choice(words) + rng.choice(["", "", rng.choice(words)])
                                       for _ in range(TAGS * 2)))[:TAGS]
        self.tag_cum = zipf_weights(TAGS, 1.0, 30)
        self.hosts = [rng.choice(["", "", "www.", "blog.", "m."]) + rng.choice(words) + "." + rng.choice(TLDS)
                      for _ in range(HOSTS)]
        # a collocation pairs a topical word with any word: "latte art", "art of"
        self.phrases = {lang: [self._collocation(rng, vocab) for _ in range(PHRASES)]
                        for lang, vocab in self.vocab.items()}
        self.phrase_cum = zipf_weights(PHRASES)

    @staticmethod
    def _name(rng: random.Random, lang: str, syllables: int = 2) -> str:
        vowels = VOWELS.get(lang, "aeiou")
        return "".join(rng.choice(CONSONANTS) + rng.choice(vowels) for _ in range(syllables))

    @staticmethod
    def _collocation(rng: random.Random, vocab: list[str]) -> tuple[str, str]:
        pair = [vocab[log_uniform(rng, 200, len(vocab))], rng.choice(vocab[:5000])]
        rng.shuffle(pair)
        return pair[0], pair[1]

    def _vocabulary(self, rng: random.Random, lang: str) -> list[str]:
        """VOCAB distinct words, commoner ones shorter, as in real languages."""
        words: dict[str, None] = {}
        while len(words) < VOCAB:
            rank = len(words)
            size = 1 + (rank > 30) + (rank > 400) + (rank > 5000) + rng.random().__lt__(0.5)
            if lang == "ja":
                words["".join(rng.choices(KANA, cum_weights=KANA_CUM, k=min(size + 1, 5)))] = None
            else:
                words[self._name(rng, lang, size)] = None
        return list(words)

    # posts

    def posts(self, n: int, seed: int) -> list[Post]:
        """n posts of 10 to 280 characters."""
        rng = random.Random(seed)
        return [self._post(rng, i) for i in range(n)]

    def _post(self, rng: random.Random, i: int) -> Post:
        lang = rng.choices(list(LANGS), weights=list(LANGS.values()))[0]
        n_tags = rng.choice([0, 0, 0, 1, 1, 2, 3])
        tags = list(dict.fromkeys(rng.choices(self.tags, cum_weights=self.tag_cum, k=n_tags)))
        mentions = rng.choices(self.users, cum_weights=self.user_cum, k=rng.choice([0, 0, 0, 1, 2]))
        urls = [f"https://{rng.choice(self.hosts)}/{rng.randrange(10**6)}" for _ in range(rng.random() < 0.25)]
        reply = rng.choices([True, False, None], weights=[3, 6, 1])[0]
        text = self._text(rng, lang, tags, mentions, urls)
        author = Author(
            id=f"u{i % USERS}", handle=rng.choices(self.users, cum_weights=self.user_cum)[0],
            followers_count=None if rng.random() < 0.1 else int(rng.lognormvariate(5, 2)),
            is_bot=rng.choices([True, False, None], weights=[3, 80, 17])[0],
        )
        return Post(
            platform="mock", id=str(i), author=author, text=text, lang=None if rng.random() < 0.05 else lang,
            hashtags=tags, mentions=mentions, urls=urls, is_reply=reply, is_repost=rng.random() < 0.05,
            reply_to_author=rng.choice(self.users) if reply else None, is_quote=rng.random() < 0.05,
            media_count=rng.choices([None, 0, 1, 4], weights=[1, 6, 2, 1])[0],
        )

    def _text(self, rng: random.Random, lang: str, tags: list[str], mentions: list[str], urls: list[str]) -> str:
        target = min(280, max(10, int(rng.lognormvariate(4.4, 0.6))))
        extras = [f"@{m}" for m in mentions] + [f"#{t}" for t in tags] + urls
        budget = target - sum(len(e) + 1 for e in extras)
        words: list[str] = []
        while budget > 0 or not words:
            if rng.random() < 0.04:
                piece = " ".join(rng.choices(self.phrases[lang], cum_weights=self.phrase_cum)[0])
            else:
                piece = rng.choices(self.vocab[lang], cum_weights=self.cum)[0]
                piece += rng.choices(["", ",", ".", "!", "?"], weights=[20, 2, 2, 1, 1])[0]
            words.append(piece)
            budget -= len(piece) + 1
        words[0] = words[0].capitalize()
        return " ".join(extras[: len(mentions)] + words + extras[len(mentions) :])[:280]

    # rules

    def queries(self, n: int, seed: int) -> list[tuple[str, Scope]]:
        """n rule queries, each with its scope: None (anyone), "people" or a list of authors."""
        rng = random.Random(seed)
        kinds = [getattr(self, f"_{kind}_rule") for kind in RULE_MIX]
        return [rng.choices(kinds, weights=list(RULE_MIX.values()))[0](rng) for _ in range(n)]

    def rules(self, n: int, seed: int) -> list[tuple[Node, list[str] | None]]:
        """n parsed rules, each with the authors of its scope when the scope lists them."""
        return [
            (parse(q, scoped=scope is not None), scope if isinstance(scope, list) else None)
            for q, scope in self.queries(n, seed)
        ]

    def _word(self, rng: random.Random, lang: str) -> str:
        """A topical word: rank log-uniform over the vocabulary beyond the 200 commonest."""
        return self.vocab[lang][log_uniform(rng, 200, VOCAB)]

    def _lang(self, rng: random.Random) -> str:
        return rng.choices(list(LANGS), weights=list(LANGS.values()))[0]

    def _narrow(self, rng: random.Random, lang: str) -> str:
        options = [(0.4, f"lang:{lang}"), (0.3, "-is:reply"), (0.15, "-is:retweet"), (0.05, "has:media"),
                   (0.05, "-has:links"), (0.05, f"followers_count:{rng.choice([100, 500, 1000])}"), (0.02, "-is:bot")]
        return " ".join(term for p, term in options if rng.random() < p)

    def _phrase(self, rng: random.Random, lang: str) -> str:
        return '"' + " ".join(self.phrases[lang][log_uniform(rng, 10, PHRASES)]) + '"'

    def _tag(self, rng: random.Random) -> str:
        return "#" + self.tags[log_uniform(rng, 10, TAGS)]

    def _user(self, rng: random.Random) -> str:
        return self.users[log_uniform(rng, 10, USERS)]

    def _word_rule(self, rng: random.Random) -> tuple[str, Scope]:
        lang = self._lang(rng)
        words = " ".join(self._word(rng, lang) for _ in range(rng.choice([1, 1, 1, 2, 2, 3])))
        return f"{words} {self._narrow(rng, lang)}", None

    def _phrase_rule(self, rng: random.Random) -> tuple[str, Scope]:
        lang = self._lang(rng)
        return f"{self._phrase(rng, lang)} {self._narrow(rng, lang)}", None

    def _tag_rule(self, rng: random.Random) -> tuple[str, Scope]:
        extra = rng.choice(["", "", "", "-#" + self._tag(rng)[1:], self._word(rng, "en")])
        return f"{self._tag(rng)} {extra} {self._narrow(rng, self._lang(rng))}", None

    def _author_rule(self, rng: random.Random) -> tuple[str, Scope]:
        authors = " OR ".join(f"from:{self._user(rng)}" for _ in range(rng.choice([1, 1, 2, 5])))
        return f"({authors}) {self._narrow(rng, self._lang(rng))}", None

    def _or_rule(self, rng: random.Random) -> tuple[str, Scope]:
        lang = self._lang(rng)
        makers = [lambda: self._word(rng, lang), lambda: self._phrase(rng, lang), lambda: self._tag(rng)]
        terms = [rng.choices(makers, weights=[6, 2, 2])[0]() for _ in range(rng.randint(2, 5))]
        return f"({' OR '.join(terms)}) {self._narrow(rng, lang)}", None

    def _negation_rule(self, rng: random.Random) -> tuple[str, Scope]:
        lang = self._lang(rng)
        minus = [f"-{self._word(rng, lang)}", f"-{self._phrase(rng, lang)}", f"-{self._tag(rng)}",
                 f"-({self._word(rng, lang)} OR {self._word(rng, lang)})"]
        return f"{self._word(rng, lang)} {' '.join(rng.sample(minus, 2))} {self._narrow(rng, lang)}", None

    def _mention_rule(self, rng: random.Random) -> tuple[str, Scope]:
        return f"@{self._user(rng)} {self._narrow(rng, self._lang(rng))}", None

    def _url_rule(self, rng: random.Random) -> tuple[str, Scope]:
        host = rng.choice(self.hosts).removeprefix("www.").removeprefix("blog.").removeprefix("m.")
        return f"url:{host} {self._narrow(rng, self._lang(rng))}", None

    def _scoped_rule(self, rng: random.Random) -> tuple[str, Scope]:
        """A rule scoped to people; its query may only narrow, or be empty."""
        query = rng.choice(["", "", "-is:reply", "lang:en", "lang:it -is:retweet", "followers_count:1000",
                            "has:media -is:reply", "-#nsfw", self._tag(rng)])
        if rng.random() < 0.05:  # the followers of a large account, say: not listed to the index
            return query, "people"
        return query, [self._user(rng) for _ in range(int(5 * 100 ** rng.random()))]


# --- measuring ------------------------------------------------------------------------------
# Throughput is CPU time of this thread (what one core does) and wall time (what the shared
# machine gave us); latencies are per-post CPU time, so that other processes do not inflate them.

EVALUATOR_BUDGET_S = 2.0
CPU_NS = time.thread_time_ns


def machine_speed_ns() -> float:
    """ns per iteration of a plain dict look-up loop: a yardstick to compare machines by."""
    table, keys = {str(i): i for i in range(1000)}, [str(i) for i in range(1000)] * 1000
    start = time.process_time()
    for key in keys:
        table.get(key)
    return (time.process_time() - start) * 1e9 / len(keys)


def clock_overhead_ns() -> int:
    """The cost of one CPU-clock read, subtracted from per-post samples."""
    reads = [-CPU_NS() + CPU_NS() for _ in range(2000)]
    return sorted(reads)[len(reads) // 2]


def percentiles(samples_ns: list[int]) -> tuple[float, float]:
    """p50 and p99 in microseconds."""
    ordered = sorted(samples_ns)
    return ordered[len(ordered) // 2] / 1000, ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] / 1000


def measure(posts, fn) -> tuple[float, float, float, float]:
    """Posts/s by CPU time and by wall time, then p50 and p99 CPU µs per post."""
    for post in posts[:2000]:  # warm up
        fn(post)
    wall, cpu = time.perf_counter(), time.process_time()
    for post in posts:
        fn(post)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    overhead, samples = clock_overhead_ns(), []
    for post in posts:
        t0 = CPU_NS()
        fn(post)
        samples.append(CPU_NS() - t0 - overhead)
    return len(posts) / cpu, len(posts) / wall, *percentiles(samples)


def build(rules) -> tuple[RuleIndex, float]:
    """An index of the rules and the seconds it took to build."""
    index = RuleIndex()
    index.learn(WARMUP)
    start = time.process_time()
    index.add_many((rid, node, authors) for rid, (node, authors) in enumerate(rules))
    return index, time.process_time() - start


def index_memory(rules) -> float:
    """MiB held by a freshly built index (tracemalloc), learned term statistics included."""
    gc.collect()
    tracemalloc.start()
    index, _ = build(rules)
    gc.collect()
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    del index
    return size / 2**20


def change_times(index: RuleIndex, corpus: Corpus, n: int) -> tuple[float, float, float]:
    """Mean, p99 and max ms of one rule change (an add, or a remove) with the whole set loaded."""
    samples = []
    for i, (node, authors) in enumerate(corpus.rules(n, seed=99)):
        t0 = time.perf_counter()
        index.add(10**9 + i, node, authors=authors)
        t1 = time.perf_counter()
        index.remove(10**9 + i)
        samples += [t1 - t0, time.perf_counter() - t1]
    samples.sort()
    return statistics.mean(samples) * 1000, samples[int(0.99 * len(samples))] * 1000, samples[-1] * 1000


def evaluator(rules, posts, index: RuleIndex) -> tuple[float, float, float, int, int]:
    """Posts/s, p50, p99 of the simple evaluator within the budget; posts reached; disagreements."""
    samples, wrong = [], 0
    scopes = [None if authors is None else {fold_handle(a) for a in authors} for _, authors in rules]
    nodes = [node for node, _ in rules]
    overhead, deadline = clock_overhead_ns(), time.perf_counter() + EVALUATOR_BUDGET_S
    for post in posts:
        t0 = CPU_NS()
        p = prepare(post)
        found = {
            rid for rid, (node, scope) in enumerate(zip(nodes, scopes, strict=True))
            if matches(node, p) and (scope is None or not scope.isdisjoint(p.authors))
        }
        samples.append(CPU_NS() - t0 - overhead)
        wrong += found != index.match(post)
        if time.perf_counter() > deadline:
            break
    return len(samples) / (sum(samples) / 1e9), *percentiles(samples), len(samples), wrong


def floor(index: RuleIndex):
    """Tokenize the text and one look-up per token in the index's own table (a dict, or the C
    KeyIndex when the extension is built), no rule logic."""
    get = index._table.get  # the real table, so that its size and memory are the real ones

    def run(post) -> None:
        for token in tokenize(post.text):
            get(token)

    return run


def run_size(n: int, corpus: Corpus, posts) -> None:
    """Print one size's figures."""
    t0 = time.process_time()
    rules = corpus.rules(n, seed=n)
    parse_s = time.process_time() - t0
    index, build_s = build(rules)
    gc.collect()
    gc.freeze()  # as a service does once its rules are loaded: the GC stops rescanning the index
    mean_ms, p99_ms, max_ms = change_times(index, corpus, 500)
    sample = posts[:2000]
    exact, checks, _ = index._state(index._always)
    anchorless = set(exact).union(*(group[3] for group in checks))
    hits = sum(len(index.match(post)) for post in sample) / len(sample)
    hits_anchorless = sum(len(index.match(post) & anchorless) for post in sample) / len(sample)
    icpu, iwall, i50, i99 = measure(posts, index.match)
    fcpu, fwall, f50, f99 = measure(posts, floor(index))
    ecpu, e50, e99, reached, wrong = evaluator(rules, posts, index)
    gc.unfreeze()
    del index
    memory = index_memory(rules)
    print(f"\n## {n:,} rules: parse {parse_s:.2f} s, index build {build_s:.2f} s, index memory {memory:.1f} MiB")
    print(f"  {hits:.1f} rules match a post on average ({hits_anchorless:.1f} of them among the {len(anchorless):,}"
          f" rules without an anchor, checked on every post)")
    print(f"  {'':18}{'posts/s CPU':>12}{'posts/s wall':>14}{'p50 µs':>9}{'p99 µs':>9}")
    print(f"  {'index':18}{icpu:>12,.0f}{iwall:>14,.0f}{i50:>9.1f}{i99:>9.1f}")
    print(f"  {'bare floor':18}{fcpu:>12,.0f}{fwall:>14,.0f}{f50:>9.1f}{f99:>9.1f}")
    note = "" if reached == len(posts) else (
        f"  stopped after {EVALUATOR_BUDGET_S:.0f} s at {reached:,} posts"
        f" (all {len(posts):,}: ~{len(posts) / ecpu:,.0f} s)"
    )
    print(f"  {'simple evaluator':18}{ecpu:>12,.1f}{'':>14}{e50:>9.0f}{e99:>9.0f}{note}")
    print(f"  index time / floor time: {fcpu / icpu:.2f}x; index {icpu / ecpu:,.0f}x faster than the evaluator;"
          f" disagreements with the evaluator: {wrong} of {reached:,} posts")
    print(f"  one rule change (1,000 adds and removes) with {n:,} rules loaded:"
          f" mean {mean_ms:.3f} ms, p99 {p99_ms:.3f} ms, max {max_ms:.3f} ms")


def main() -> None:
    global WARMUP
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args()
    sizes = [100, 1_000] if args.quick else [100, 1_000, 10_000, 100_000]
    n_posts = 3_000 if args.quick else 20_000
    started = time.perf_counter()
    corpus = Corpus(seed=7)
    WARMUP = corpus.posts(5_000, seed=1)
    posts = corpus.posts(n_posts, seed=2)
    for post in posts:  # fill the tokenizer's memos as a running service would have
        prepare(post)
    lengths = [len(p.text) for p in posts]
    print(f"python {platform.python_version()} ({platform.python_implementation()}) on {platform.machine()},"
          f" os.cpu_count()={os.cpu_count()}, load average {os.getloadavg()[0]:.1f}; one core used;"
          f" yardstick: {machine_speed_ns():.0f} ns per dict look-up in a Python loop")
    print(f"{n_posts:,} posts of {min(lengths)}-{max(lengths)} chars (median {statistics.median(lengths):.0f}),"
          f" {sum(not p.text.isascii() for p in posts) / n_posts:.0%} non-ASCII;"
          f" the index first learns term frequencies from {len(WARMUP):,} other posts")
    print("rules (%): " + ", ".join(f"{kind} {share}" for kind, share in RULE_MIX.items())
          + "; 95% of the scoped ones list their authors to the index")
    for n in sizes:
        run_size(n, corpus, posts)
    print(f"\ntotal {time.perf_counter() - started:.0f} s, load average now {os.getloadavg()[0]:.1f}")


WARMUP: list = []

if __name__ == "__main__":
    main()
