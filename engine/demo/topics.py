"""The demo data set's vocabulary: twenty topics as Instagram shows them, with tag
synonyms in several languages, caption words, tags that tend to earn more likes, and
the real ImageNet sample photos each topic's pictures are composed from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Subject:
    """What a topic's picture shows when its tags tell things apart (a pets picture is a
    cat or a dog): its photos carry only the topic's shared tags and the subject's own,
    never another subject's (issue 24: a cat picture tagged #dog teaches the photo model
    to put #dog on cats)."""

    name: str
    photos: tuple[str, ...]  # imagenet-sample classes that show it
    tags: tuple[str, ...]  # the topic's tags that only fit pictures of it


@dataclass(frozen=True)
class Topic:
    name: str
    tags: tuple[str, ...]  # core hashtags, most common first, synonyms across languages
    words: tuple[str, ...]  # caption vocabulary
    good: tuple[str, ...]  # tags whose posts earn more likes
    photos: tuple[str, ...]  # imagenet-sample classes the demo's pictures are made from
    colour: tuple[int, int, int]  # palette for the translucent shapes drawn on pictures
    # Classes of the same subject that the demo never uses: bench_photos asks for their
    # tags to measure topic precision on photos the model has not seen.
    heldout: tuple[str, ...] = ()
    # Partition of `photos` by what they show, each with the tags only it may carry.
    subjects: tuple[Subject, ...] = ()

    def fit_tag(self, tag: str, subject: str | None) -> str:
        """`tag` made to fit a picture of `subject`: another subject's tag becomes the
        subject's own at the same place (#dog -> #cat, #perro -> #gato); others stay."""
        own = next((s.tags for s in self.subjects if s.name == subject), None)
        if own is None:
            return tag
        for other in self.subjects:
            if other.name != subject and tag in other.tags:
                return own[other.tags.index(tag) % len(own)]
        return tag


def _t(s: str) -> tuple[str, ...]:
    return tuple(s.split())


_DOGS = (
    "Maltese_dog Shih-Tzu papillon Afghan_hound Irish_wolfhound Norfolk_terrier Sealyham_terrier "
    "Boston_bull Tibetan_terrier golden_retriever Irish_setter Sussex_spaniel Shetland_sheepdog "
    "French_bulldog Siberian_husky chow toy_poodle"
)

TOPICS: tuple[Topic, ...] = (
    Topic(
        "food",
        _t(
            "food foodie recipe comida cuisine essen cibo receta homemade dinner yummy "
            "foodporn delicious baking vegan apple pie fruit orchard kochen"
        ),
        _t(
            "recipe dinner oven sauce pasta bread flavour kitchen spicy garlic dessert lunch apple pie"
        ),
        _t("homemade recipe baking"),
        _t(
            "French_loaf spaghetti_squash chocolate_sauce orange trifle mashed_potato broccoli cucumber mushroom pineapple pomegranate pizza consomme plate corn bakery"
        ),
        (214, 120, 60),
        heldout=_t("cheeseburger bell_pepper jackfruit burrito"),
    ),
    Topic(
        "travel",
        _t(
            "travel wanderlust viaje voyage reise viaggio viagem travelgram explore "
            "vacation holiday roadtrip beach islandlife backpacking"
        ),
        _t("trip flight island hotel journey sunset passport coast village backpack map"),
        _t("wanderlust islandlife travelgram"),
        _t(
            "breakwater schooner cliff_dwelling container_ship castle triumphal_arch lakeside sandbar"
        ),
        (40, 150, 210),
        heldout=_t("monastery church coral_reef"),
    ),
    Topic(
        "fitness",
        _t(
            "fitness gym workout fitfam entrenamiento sport musculacion training "
            "cardio gains personaltrainer bodybuilding hiit fitnessmotivation"
        ),
        _t("workout squat reps cardio protein gym sweat muscles training deadlift stretch"),
        _t("fitnessmotivation gains hiit"),
        _t("running_shoe dumbbell punching_bag knee_pad"),
        (200, 40, 40),
    ),
    Topic(
        "cars",
        _t(
            "cars carsofinstagram supercar coche voiture auto macchina carro jaguar bmw "
            "audi mercedes porsche carporn drift motorsport"
        ),
        _t("engine horsepower drive turbo wheels garage exhaust coupe race track jaguar"),
        _t("supercar porsche carporn"),
        _t(
            "sports_car limousine pickup moped motor_scooter car_mirror disk_brake recreational_vehicle"
        ),
        (60, 60, 60),
        heldout=_t("go-kart odometer seat_belt"),
    ),
    Topic(
        "pets",
        _t(
            "pets dog cat puppy kitten dogsofinstagram catsofinstagram perro gato chien "
            "chat hund katze cane gatto petlovers"
        ),
        _t("puppy walk treats fluffy paws cuddle bark purr leash vet adopt"),
        _t("dogsofinstagram catsofinstagram puppy"),
        _t("Egyptian_cat " + _DOGS),
        (150, 110, 70),
        heldout=_t(
            "Persian_cat bloodhound Yorkshire_terrier West_Highland_white_terrier Brittany_spaniel German_shepherd Saint_Bernard Pembroke standard_poodle"
        ),
        subjects=(
            Subject(
                "cat", _t("Egyptian_cat"), _t("cat kitten catsofinstagram gato chat katze gatto")
            ),
            Subject("dog", _t(_DOGS), _t("dog puppy dogsofinstagram perro chien hund cane")),
        ),
    ),
    Topic(
        "beauty",
        _t(
            "beauty makeup skincare belleza maquillaje beaute maquillage schonheit "
            "trucco mua lipstick glowup skincareroutine nails"
        ),
        _t("serum lipstick foundation glow routine skin mascara blush palette moisturiser"),
        _t("glowup skincareroutine mua"),
        _t("hair_spray pill_bottle swab wig shower_cap"),
        (230, 130, 170),
    ),
    Topic(
        "fashion",
        _t(
            "fashion style ootd moda mode outfit streetstyle fashionista lookbook "
            "stylish fashionblogger menswear sneakers"
        ),
        _t("outfit jacket denim sneakers dress vintage tailoring accessories trend look wardrobe"),
        _t("ootd streetstyle lookbook"),
        _t("jersey Loafer miniskirt sunglasses bow_tie cowboy_hat poncho sarong"),
        (120, 60, 160),
    ),
    Topic(
        "tech",
        _t(
            "tech technology gadgets apple iphone macbook ios android tecnologia "
            "technologie coding programming setup developer"
        ),
        _t("laptop update keyboard app code battery screen chip review launch apple iphone"),
        _t("setup iphone coding"),
        _t("laptop hand-held_computer desktop_computer cellular_telephone iPod space_bar"),
        (30, 30, 110),
    ),
    Topic(
        "gaming",
        _t(
            "gaming gamer videogames playstation xbox nintendo esports twitch "
            "videojuegos jeuxvideo pcgaming streamer"
        ),
        _t("stream level boss controller console ranked squad loot quest patch"),
        _t("esports twitch pcgaming"),
        _t("joystick slot"),
        (90, 200, 90),
    ),
    Topic(
        "music",
        _t(
            "music musician guitar singer musica musique musik song livemusic "
            "concert producer newmusic"
        ),
        _t("song guitar chorus studio album gig beat lyrics stage melody"),
        _t("livemusic newmusic concert"),
        _t("banjo microphone cornet oboe trombone harmonica"),
        (250, 200, 40),
        heldout=_t("organ gong"),
    ),
    Topic(
        "art",
        _t(
            "art artist painting drawing arte illustration sketch artwork kunst "
            "contemporaryart watercolor"
        ),
        _t("canvas brush paint sketch gallery colours ink portrait studio exhibition"),
        _t("artwork watercolor illustration"),
        _t("comic_book fountain_pen vase pencil_sharpener totem_pole"),
        (180, 60, 90),
    ),
    Topic(
        "photography",
        _t(
            "photography photographer photo fotografia photographie "
            "naturephotography wildlife birds birding landscapephotography"
        ),
        _t("lens shot light exposure wildlife birds telephoto frame golden hour"),
        _t("wildlife birding naturephotography"),
        _t(
            "brambling junco robin jay water_ouzel vulture black_grouse lorikeet hornbill drake black_swan white_stork flamingo bittern red-backed_sandpiper king_penguin"
        ),
        (80, 140, 80),
        heldout=_t(
            "prairie_chicken quail African_grey jacamar limpkin American_coot oystercatcher cock"
        ),
    ),
    Topic(
        "nature",
        _t(
            "nature hiking outdoors naturaleza montagne berge natura mountains forest "
            "camping adventure trekking"
        ),
        _t("trail summit forest camp river peak hike tent wild sunrise"),
        _t("adventure mountains hiking"),
        _t("alp volcano daisy gyromitra earthstar bolete"),
        (50, 120, 50),
        heldout=_t("buckeye ibex"),
    ),
    Topic(
        "parenting",
        _t("parenting mom dad baby family kids mama familia maman momlife toddler motherhood"),
        _t("baby toddler nap family bedtime stroller playground giggles school milestone"),
        _t("momlife motherhood baby"),
        _t("crib teddy tricycle nipple bib"),
        (240, 170, 120),
    ),
    Topic(
        "wedding",
        _t(
            "wedding bride lovestory boda mariage hochzeit matrimonio casamento "
            "weddingday bridal engagement"
        ),
        _t("bride vows ceremony bouquet ring venue dress aisle reception celebration"),
        _t("weddingday bridal engagement"),
        _t(""),
        (245, 240, 230),
    ),
    Topic(
        "home",
        _t("home interiors interiordesign decor hogar deco casa homedecor diy garden plants"),
        _t("living room sofa plants shelf decor renovation garden lamp cozy diy"),
        _t("interiordesign homedecor plants"),
        _t("greenhouse refrigerator quilt mobile_home china_cabinet chiffonier window_shade"),
        (160, 140, 110),
    ),
    Topic(
        "books",
        _t("books bookstagram reading libros livres bucher libri booklover bookworm novel"),
        _t("novel chapter author library page reading shelf story review paperback"),
        _t("bookstagram booklover bookworm"),
        _t("bookcase tobacco_shop"),
        (110, 80, 50),
    ),
    Topic(
        "sports",
        _t(
            "sports football soccer futbol basketball nba volleyball fussball "
            "calcio futebol athlete"
        ),
        _t("match goal team season score coach league stadium training win"),
        _t("football nba athlete"),
        _t("football_helmet basketball volleyball bobsled unicycle soccer_ball"),
        (30, 110, 40),
    ),
    Topic(
        "coffee",
        _t("coffee espresso latte cafe barista coffeetime kaffee caffe cafezinho coffeelover"),
        _t("espresso latte beans roast barista mug brew morning crema cafe"),
        _t("coffeelover latte barista"),
        _t("espresso espresso_maker coffeepot"),
        (100, 60, 30),
    ),
    Topic(
        "wildlife",
        _t(
            "wildlife animals safari jaguar zoo animales animaux tiere animali "
            "reptiles insects macro"
        ),
        _t("safari jaguar predator reptile insect macro habitat species zoo wild"),
        _t("safari macro wildlife"),
        _t(
            "jaguar American_alligator American_chameleon night_snake bullfrog fiddler_crab tiger_beetle ant damselfly harvestman guenon titi cheetah orangutan chimpanzee colobus"
        ),
        (140, 120, 40),
        heldout=_t("lynx macaque marmoset mantis frilled_lizard"),
    ),
)

SPAM_TAGS = _t(
    "love instagood photooftheday follow like4like followme picoftheday instadaily "
    "happy beautiful tbt cute"
)

LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "ru")
LANGUAGE_WEIGHTS = (0.5, 0.15, 0.08, 0.08, 0.07, 0.07, 0.05)
GENERIC_WORDS = {
    "en": _t("today my new the best with friends weekend time day so happy this love really"),
    "es": _t("hoy mi nuevo el mejor con amigos fin semana tiempo dia muy feliz este"),
    "fr": _t("aujourd'hui mon nouveau le meilleur avec amis week-end temps jour tres heureux"),
    "de": _t("heute mein neuer der beste mit freunden wochenende zeit tag sehr glucklich"),
    "it": _t("oggi il mio nuovo migliore con amici fine settimana tempo giorno molto felice"),
    "pt": _t("hoje meu novo o melhor com amigos fim semana tempo dia muito feliz"),
    "ru": _t("сегодня мой новый лучший с друзьями выходные время день очень счастлив"),
}
FIRST_NAMES = _t(
    "ana bo carla dmitri elena femi gio hana ivan jules kai lena marco nora oli "
    "paula quinn rosa sami tara uma vito wen xena yuki zoe leo mia noah ines"
)
EMOJIS = ("✨", "🔥", "❤️", "😍", "🙌", "🌿", "☕", "🎶", "📸", "💪")
