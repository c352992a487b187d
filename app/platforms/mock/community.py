"""A lively sample community for the demo: members and outsiders, hashtags, replies, reposts,
links, spam and several languages, posting at random as a real hashtag community would."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from app.platforms.base import Post
from app.platforms.mock.world import World

MEMBERS = ["ana_roasts", "beto_brews", "chloe_crema", "dario_dose", "elif_espresso", "femi_filter", "gita_grinds",
           "hugo_hario", "ines_inverted", "jonas_java", "kemi_kettle", "luca_latte", "mara_moka", "nils_notes",
           "olga_origin", "paulo_pour", "quinn_quad", "rosa_ristretto", "sven_siphon", "tara_tamp"]
OUTSIDERS = ["random_rob", "tea_tina", "news_nick", "barista_bea", "cafe_carlos", "giulia_gusto", "marc_matin",
             "daily_dan", "karin_kaffee", "lena_leipzig"]
SPAMMER = "kaffee_deals"
STOPPER = "marc_matin"  # says "stop" to the account once: "stop" by mention puts him on its opt-out list

CLUB = ["Cupping night at the roastery on Friday, who's in? #coffeeclub",
        "New member here, hello everyone! #coffeeclub",
        "Today's brew: washed Ethiopian, blueberry notes #coffeeclub",
        "Meetup notes are up, thanks for coming #coffeeclub",
        "Anyone tried the new grinder at the club? #coffeeclub",
        "Reminder: tasting session moved to 7pm #coffeeclub"]
ESPRESSO = ["Pulled the best espresso of my life this morning", "Espresso-based drinks ranked, fight me",
            "Dialing in espresso with a new bean is a whole afternoon", "My latte art heart finally looks like a heart",
            "Latte art practice, day 30: the tulip is coming along", "Double espresso before the meeting, as one does"]
ART = ["Rosetta attempt number twelve #latteart", "Swan! Finally a swan #latteart",
       "Etched a cat in the foam #latteart"]
OTHER_LANG = [("it", "Un espresso al bancone e la giornata comincia bene"),
              ("it", "Latte art alla mattina #coffeeclub"),
              ("fr", "Un espresso serré pour bien commencer"), ("de", "Espresso am Morgen, Sorgen vergessen"),
              ("es", "Un espresso y a trabajar")]
OPENERS = ["Honestly,", "Morning thought:", "Hot take:", "Quick one:", "Note to self:", "PSA:", "Confession:",
           "Small win today:", "Question for the experts:", "Update:"]
CLOSERS = ["", "", "what do you think?", "10/10 would repeat.", "more tomorrow.", "send help.",
           "the grind never stops.", "thanks for the tips!", "photos later.", "still learning."]


def varied(text: str, rng: random.Random) -> str:
    """Real people rarely write the same sentence twice: vary the opening and the ending."""
    return " ".join(part for part in (rng.choice(OPENERS), text, rng.choice(CLOSERS)) if part)


NOISE = ["Tea is better, don't @ me", "Traffic was terrible today", "Watching the game tonight",
         "Reading a great book about the history of cafés"]
SPAM = ["Giveaway! Free espresso machine, just send crypto to win", "Crypto espresso giveaway, click fast #coffeeclub"]


def seed(world: World, account: str, rng: random.Random) -> None:
    """People and follows: members follow the account, outsiders do not; follower counts vary."""
    now = datetime.now(UTC)
    world.add_author(account, is_bot=True, display_name="Coffee Club")
    for handle in MEMBERS + OUTSIDERS:
        world.add_author(handle, followers_count=rng.choice([20, 80, 150, 400, 1200, 5000]),
                         created_at=now - timedelta(days=rng.randint(30, 3000)))
        world.authors[handle].bio = "Coffee nerd" if handle != "tea_tina" else "Tea only. #nobot"
    world.add_author(SPAMMER, followers_count=3, created_at=now - timedelta(days=2))
    for handle in MEMBERS:
        world.follow(handle, account)
    for handle in rng.sample(MEMBERS + OUTSIDERS, 12):
        world.follow(account, handle)


def step(world: World, rng: random.Random) -> Post:
    """Publish one post of a random kind, the way the community talks."""
    roll = rng.random()
    member, anyone = rng.choice(MEMBERS), rng.choice(MEMBERS + OUTSIDERS)
    if roll < 0.25:
        return world.publish(member, varied(rng.choice(CLUB), rng), lang="en")
    if roll < 0.30:  # tagged, but not a follower
        return world.publish(rng.choice(OUTSIDERS), varied(rng.choice(CLUB), rng), lang="en")
    if roll < 0.48:
        return world.publish(anyone, varied(rng.choice(ESPRESSO), rng), lang="en")
    if roll < 0.56:
        return world.publish(anyone, varied(rng.choice(ART), rng), lang="en", media_count=1)
    if roll < 0.66:
        lang, text = rng.choice(OTHER_LANG)
        return world.publish(anyone, text, lang=lang)
    if roll < 0.72:
        target = rng.choice(world.posts[-20:]) if world.posts else None
        return world.publish(anyone, f"@{target.author.handle if target else 'ana_roasts'} so true, espresso forever",
                             lang="en", is_reply=True, reply_to_author=target.author.handle if target else None)
    if roll < 0.77:
        return world.publish(anyone, f"{varied(rng.choice(ESPRESSO), rng)} https://shop.example.com/beans", lang="en")
    if roll < 0.81:
        return world.publish(SPAMMER, rng.choice(SPAM), lang="en")
    if roll < 0.85:
        text = CLUB[0]
        return world.publish(member, text, lang="en")  # the same announcement again: a duplicate
    return world.publish(anyone, rng.choice(NOISE), lang="en")


def say_stop(world: World, account: str = "coffeeclub") -> Post:
    """An outsider mentions the account with a stop word, as someone tired of being reposted would."""
    return world.publish(STOPPER, f"@{account} stop reposting me please", lang="en")
