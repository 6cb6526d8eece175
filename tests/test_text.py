"""Caption tokenisation for the lookalike model, and the import's tag normalisation it
must agree with."""

from engine.core.text import STOP_WORDS, caption_words, normalize_tag, post_tags


def test_drops_urls_mentions_hashtags_numbers_and_stop_words() -> None:
    caption = "Today my new #VeganRecipes with @chef.anna at https://x.co/abc 2024 kitchen"
    assert caption_words(caption) == ["kitchen"]


def test_normalised_like_tags_lowercase_no_diacritics() -> None:
    assert caption_words("CRÈME Brûlée Café") == ["creme", "brulee", "cafe"]
    assert caption_words("Café") == [normalize_tag("#Café")]


def test_several_scripts_and_languages() -> None:
    # Russian, German, Spanish, French stop words removed; topical words kept.
    assert caption_words("Сегодня новый рецепт борща") == ["рецепт", "борща"]
    assert caption_words("Heute mit Freunden im Wald wandern") == ["wald", "wandern"]
    assert caption_words("el mejor entrenamiento del dia") == ["entrenamiento"]
    assert caption_words("les meilleurs croissants de Paris") == [
        "meilleurs",
        "croissants",
        "paris",
    ]
    for word in ("the", "и", "der", "el", "le", "il", "um"):
        assert word in STOP_WORDS


def test_apostrophes_inside_words_kept_and_empty_inputs() -> None:
    assert caption_words("rock'n'roll night") == ["rock'n'roll", "night"]
    assert caption_words(None) == []
    assert caption_words("") == []
    assert caption_words("12 34 !!! @x #y") == []


def test_import_normalisation_unchanged() -> None:
    assert normalize_tag("#Café") == "cafe"
    assert post_tags("Loving #Vegan life #FOOD", "vegan, Recipes|#food") == [
        "vegan",
        "recipes",
        "food",
    ]
