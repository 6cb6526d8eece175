"""The one list of tags that say nothing about a theme (TopicTensor's blacklist), shared
by tag training, photo hashtags and topic clustering so that all three agree on what a
topical tag is."""

from __future__ import annotations

from engine.core.text import normalize_tag

# Non-topical tags: engagement spam, generic words, numerals and colours in the languages
# the demo (and most of our creators) use. Configurable: `blacklist` replaces it,
# `extra_blacklist` adds to it.
_SPAM = (
    "love instagood photooftheday follow like4like followme picoftheday instadaily happy "
    "beautiful tbt cute like likeforlike l4l f4f followforfollow follow4follow instalike "
    "instamood instagram insta pic pics me myself repost igers "
    "tagsforlikes likes likeforlikes followers comment smile fun friends life lifestyle "
    "amazing nice best good new bestoftheday instapic instacool swag yolo mood vibes"
)
_WORDS = (
    # en
    "today my new the best with friends weekend time day so this really and a an of to "
    "in on for it is at"
    # es
    " hoy mi nuevo el la los las mejor con amigos fin semana tiempo dia muy feliz este y de "
    "en"
    # fr
    " aujourdhui mon nouveau le les meilleur avec amis weekend temps jour tres heureux et "
    "du des"
    # de
    " heute mein neuer der die das beste mit freunden wochenende zeit tag sehr glucklich und"
    # it
    " oggi il mio nuovo migliore amici fine settimana tempo giorno molto felice"
    # pt
    " hoje meu novo o melhor com amigos fim semana tempo dia muito feliz"
    # ru (transliterated and Cyrillic)
    " segodnya moy novyy luchshiy s druzyami vremya den ochen schastliv"
    " сегодня мой новый лучший с друзьями выходные время день очень счастлив любовь"
)
_COLOURS = (
    "red blue green yellow black white pink purple orange brown grey gray gold silver "
    "rojo azul verde amarillo negro blanco rosa rouge bleu vert jaune noir blanc rot blau "
    "grun gelb schwarz weiss rosso blu giallo nero bianco vermelho preto branco"
)
_NUMERALS = (
    "one two three four five six seven eight nine ten uno dos tres cuatro cinco un deux "
    "trois eins zwei drei due tre um dois"
)
NON_TOPICAL: frozenset[str] = frozenset(
    normalize_tag(w) for w in f"{_SPAM} {_WORDS} {_COLOURS} {_NUMERALS}".split()
)

# Tags too broad to name a theme on their own. They stay in the tag vocabulary (a fashion
# creator's #fashion is real signal), but a topic cluster made mostly of them and of the
# non-topical tags is dropped as "spam".
BROAD: frozenset[str] = frozenset(
    ["fashion", "art", "photography", "selfie", "nofilter", "me", "cute", "happy"]
)
SPAM_CLUSTER: frozenset[str] = NON_TOPICAL | BROAD
