"""From a prompt's words to the subjects the renderers draw.

The prompt's nouns are matched to the library's drawing names (:mod:`engine.render.drawings`):
the longest name first ("hot air balloon" before "balloon"), then the word alone, its
singular ("foxes", "puppies", "wolves", "mice") and a small table of common synonyms
("kitten" -> cat, "skyscraper" -> office building, "car" -> automobile). A number or count
word before the noun sets how many ("three cats", "a pair of swans"; a bare plural is
three), and a colour word in the same phrase binds to it ("a red fox", "a dark blue door"):
it tints that subject, not the scene. The first subject named is the main one.

Words the scene draws itself (mountains, sea, forest, sun, stars, snow ...), the people the
figure draws, moods, styles and function words are never looked up, and a word that names
no drawing gives no subject: nothing is ever picked at random. Pure Python and
deterministic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.render.drawings import Drawing, drawing, word_set
from engine.render.prompt import (
    COLOUR_MODIFIERS,
    COLOUR_WORDS,
    MOOD_WORDS,
    RGB,
    SCENE_WORDS,
    SUBJECT_WORDS,
    _modify,
)

__all__ = ["MAX_COUNT", "Subject", "find_subjects"]

MAX_COUNT = 6  # more would not read as separate subjects on one canvas
_MAX_SUBJECTS = 4

_TOKEN_RE = re.compile(r"[a-z0-9]+|[,;.:!?()]")
_STOPS = frozenset(",;.:!?()")

_NUMBERS: dict[str, int] = {
    "one": 1, "a": 1, "an": 1, "single": 1, "lone": 1, "two": 2, "pair": 2, "couple": 2,
    "twin": 2, "twins": 2, "three": 3, "few": 3, "several": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "many": 5, "lots": 5,
    "dozen": 6, "group": 4, "herd": 5, "flock": 5, "pack": 4, "school": 5, "family": 3,
}  # fmt: skip

# Common words for what the library names otherwise. A value is a drawing's name.
_SYNONYMS: dict[str, str] = {
    "kitten": "cat", "kitty": "cat", "puppy": "dog", "pup": "dog", "doggy": "dog",
    "hound": "dog", "wolfdog": "dog", "pony": "horse", "stallion": "horse", "mare": "horse",
    "foal": "horse", "bunny": "rabbit", "hare": "rabbit", "lamb": "ewe", "sheep": "ewe",
    "cow": "cow", "calf": "cow", "bull": "ox", "piglet": "pig", "hog": "pig",
    "duckling": "duck", "chick": "baby chick", "hen": "chicken", "rooster": "rooster",
    "dino": "sauropod", "dinosaur": "sauropod", "trex": "t rex", "tyrannosaurus": "t rex",
    "songbird": "bird", "sparrow": "bird", "robin": "bird", "crow": "black bird",
    "raven": "black bird", "seagull": "bird", "gull": "bird", "hawk": "eagle",
    "falcon": "eagle", "goldfish": "fish", "salmon": "fish", "trout": "fish",
    "puffer": "blowfish", "medusa": "jellyfish", "orca": "whale", "kraken": "octopus",
    "bee": "honeybee", "ant": "ant", "spider": "spider", "bug": "bug", "insect": "bug",
    "moth": "butterfly", "tortoise": "turtle", "lizard": "lizard", "serpent": "snake",
    "ape": "gorilla", "monkey": "monkey", "chimp": "monkey", "panda": "panda",
    "bear": "bear", "grizzly": "bear", "lion": "lion", "tiger": "tiger", "cheetah": "leopard",
    "deer": "deer", "reindeer": "deer", "stag": "deer", "moose": "moose", "elk": "deer",
    "car": "automobile", "auto": "automobile", "sedan": "automobile", "taxi": "taxi",
    "cab": "taxi", "truck": "delivery truck", "lorry": "delivery truck", "van": "minibus",
    "bike": "bicycle", "cycle": "bicycle", "motorbike": "motorcycle", "scooter": "motor scooter",
    "train": "locomotive", "steam train": "locomotive", "tram": "tram", "bus": "bus",
    "plane": "airplane", "aeroplane": "airplane", "jet": "airplane", "aircraft": "airplane",
    "airliner": "airplane", "chopper": "helicopter", "spaceship": "rocket",
    "spacecraft": "rocket", "ufo": "flying saucer", "hot air balloon": "balloon",
    "boat": "sailboat", "sailing boat": "sailboat", "yacht": "sailboat", "dinghy": "sailboat",
    "kayak": "canoe", "ship": "ship", "steamship": "ship", "liner": "passenger ship",
    "cruise ship": "passenger ship", "submarine": "ship", "tractor": "tractor",
    "skyscraper": "office building", "building": "office building",
    "office": "office building", "tower": "tokyo tower", "lighthouse": "tokyo tower",
    "cabin": "house", "cottage": "house", "home": "house", "villa": "house with garden",
    "farmhouse": "house with garden", "hut": "hut", "barn": "house", "palace": "castle",
    "fortress": "castle", "fort": "castle", "chateau": "castle", "cathedral": "church",
    "chapel": "church", "temple": "hindu temple", "pagoda": "japanese castle",
    "shrine": "shinto shrine", "tent": "tent", "bridge": "bridge at night",
    "cup": "hot beverage", "mug": "hot beverage", "coffee": "hot beverage",
    "espresso": "hot beverage", "cappuccino": "hot beverage", "latte": "hot beverage",
    "tea": "teacup without handle", "teapot": "teapot", "wine": "wine glass",
    "beer": "beer mug", "cocktail": "cocktail glass", "juice": "beverage box",
    "burger": "hamburger", "cheeseburger": "hamburger", "fries": "french fries",
    "donut": "doughnut", "cake": "birthday cake", "cupcake": "cupcake", "cookie": "cookie",
    "apple": "red apple", "pear": "pear", "banana": "banana", "lemon": "lemon",
    "strawberry": "strawberry", "cherry": "cherries", "grape": "grapes", "melon": "melon",
    "watermelon": "watermelon", "pineapple": "pineapple", "orange fruit": "tangerine",
    "tangerine": "tangerine", "peach": "peach", "mushroom": "mushroom", "toadstool": "mushroom",
    "icecream": "ice cream", "gelato": "ice cream", "sweets": "candy", "noodles": "steaming bowl",
    "ramen": "steaming bowl", "soup": "pot of food", "sandwich": "sandwich",
    "book": "closed book", "novel": "closed book", "books": "books", "letter": "envelope",
    "phone": "mobile phone", "smartphone": "mobile phone", "computer": "laptop",
    "notebook": "notebook", "camera": "camera", "lamp": "light bulb", "bulb": "light bulb",
    "candle": "candle", "clock": "mantelpiece clock", "watch": "watch", "key": "old key",
    "sword": "dagger", "knife": "kitchen knife", "crown": "crown", "gem": "gem stone",
    "diamond": "gem stone", "jewel": "gem stone", "ring": "ring", "guitar": "guitar",
    "piano": "musical keyboard", "violin": "violin", "drum": "drum", "trumpet": "trumpet",
    "ball": "soccer ball", "football": "soccer ball", "gift": "wrapped gift",
    "present": "wrapped gift", "chair": "chair", "bed": "bed", "sofa": "couch and lamp",
    "couch": "couch and lamp", "vase": "amphora", "pot": "potted plant", "plant": "potted plant",
    "houseplant": "potted plant", "cactus": "cactus", "palm": "palm tree",
    "sunflower": "sunflower", "rose": "rose", "robot": "robot", "android": "robot",
    "ghost": "ghost", "alien": "alien", "unicorn": "unicorn", "dragon": "dragon",
    "mermaid": "merperson", "snowman": "snowman", "umbrella": "umbrella",
    "hat": "top hat", "shoe": "running shoe", "boot": "hiking boot", "glasses": "glasses",
    "backpack": "backpack", "bag": "handbag", "pumpkin": "jack o lantern",
    "skull": "skull", "heart": "red heart", "owl": "owl", "frog": "frog", "toad": "frog",
    "penguin": "penguin", "koala": "koala", "kangaroo": "kangaroo", "giraffe": "giraffe",
    "zebra": "zebra", "elephant": "elephant", "camel": "two hump camel", "dolphin": "dolphin",
    "shark": "shark", "crab": "crab", "lobster": "lobster", "parrot": "parrot",
    "flamingo": "flamingo", "peacock": "peacock", "swan": "swan", "squirrel": "chipmunk",
    "hedgehog": "hedgehog", "mouse": "mouse", "rat": "rat", "wolf": "wolf", "fox": "fox",
    "raccoon": "raccoon", "badger": "badger", "otter": "otter", "beaver": "beaver",
    "bat": "bat", "snail": "snail", "whale": "whale", "octopus": "octopus",
}  # fmt: skip

_IRREGULAR: dict[str, str] = {
    "mice": "mouse", "geese": "goose", "children": "child", "people": "person", "men": "man",
    "women": "woman", "teeth": "tooth", "feet": "foot", "oxen": "ox", "cacti": "cactus",
    "fungi": "mushroom", "wolves": "wolf", "leaves": "leaf", "knives": "knife",
    "loaves": "bread", "elves": "elf", "shelves": "shelf", "dwarves": "dwarf",
    "octopi": "octopus", "sheep": "sheep", "fish": "fish", "deer": "deer", "moose": "moose",
}  # fmt: skip

# Never looked up alone: the scene's own layers and palettes, the figure's people, moods,
# colours, and words about the picture rather than in it.
_NOT_SUBJECTS: frozenset[str] = frozenset(
    set(SUBJECT_WORDS) - {"building", "skyscraper", "tower"}
    | set(SCENE_WORDS)
    | set(MOOD_WORDS)
    | set(COLOUR_MODIFIERS)
    | set(_NUMBERS)
    | _STOPS
    | set(
        word_set(
            "the of in on at by with and or over under above below near beside behind "
            "front through into onto from to for its his her their is are very tall small "
            "big large little tiny huge giant young new old top up down back end made "
            "full half inside outside around across along among between while during art "
            "artwork painting paint photo photograph photography picture image "
            "illustration drawing sketch render rendering style poster wallpaper shot "
            "closeup close view scene landscape detailed realistic masterpiece quality "
            "high best beautiful shapes shape abstract pattern background design concept "
            "digital oil watercolor watercolour lighting light colour color colours "
            "colors tone tones aesthetic hd uhd k octane unreal engine trending studio "
            "macro lens wide angle bokeh style vintage retro modern minimal minimalist "
            "simple cozy cosy tall japan wearing holding sitting standing flying swimming "
            "walking running sleeping playing looking made covered filled lit glowing "
            "floating like emoji icon logo sticker face eye eyes hand hands head body "
            "skin hair beard bearded age aged elderly wrinkled"
        )
    )
)
# People are the figure's (engine.render.text_to_image.subjects), not drawings.
_PEOPLE = frozenset(k for k, v in SUBJECT_WORDS.items() if v == "figure") | {"person", "child"}


@dataclass(frozen=True)
class Subject:
    """One subject a prompt names: its drawing, how many, and the colour bound to it."""

    drawing: Drawing
    word: str  # the prompt's words for it
    count: int
    colour: RGB | None = None
    colour_name: str | None = None


def tokens(prompt: str) -> tuple[str, ...]:
    """Lower-case words, numbers and punctuation (which ends a phrase), apostrophes dropped
    ("fox's" -> "foxs")."""
    return tuple(_TOKEN_RE.findall(prompt.lower().replace("'", "").replace("’", "")))


def _singulars(word: str) -> list[str]:
    out = [word]
    if word in _IRREGULAR:
        out.append(_IRREGULAR[word])
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    if word.endswith("ves"):
        out += [word[:-3] + "f", word[:-3] + "fe"]
    if word.endswith("es") and word[-3] in "sxzh":
        out.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        out.append(word[:-1])
    return out


def _resolve(words: tuple[str, ...]) -> tuple[Drawing, bool] | None:
    """The drawing named by ``words`` (its last one possibly plural), and whether plural."""
    head, last = words[:-1], words[-1]
    for i, form in enumerate(_singulars(last)):
        if form in _PEOPLE:
            return None
        plural = i > 0 and form != last and last not in ("fish", "sheep", "deer", "moose")
        phrase = " ".join((*head, form))
        name = _SYNONYMS.get(phrase, phrase)
        found = drawing(name)
        if found is not None:
            return found, plural
    return None


def _is_colour(word: str) -> bool:
    return word in COLOUR_WORDS or (word.endswith("s") and word[:-1] in COLOUR_WORDS)


_BREAKS = _STOPS | {"and", "with", "in", "on", "of", "at", "by", "near", "under", "over"}


def _bound_colour(toks: tuple[str, ...], start: int, floor: int) -> tuple[str, RGB] | None:
    """The colour word in the noun phrase before ``start`` (back to ``floor``): "a red fox",
    "a big dark blue door"; "and", "with" or a preposition end the phrase."""
    for j in range(start - 1, max(floor, start - 4) - 1, -1):
        word = toks[j]
        if word in _BREAKS:
            return None
        if word in COLOUR_WORDS:
            modifier = COLOUR_MODIFIERS.get(toks[j - 1]) if j > floor else None
            name = f"{toks[j - 1]} {word}" if modifier else word
            return name, _modify(COLOUR_WORDS[word], modifier)
    return None


def _count(toks: tuple[str, ...], start: int, floor: int, plural: bool) -> int:
    for j in range(start - 1, max(floor, start - 4) - 1, -1):
        word = toks[j]
        if word.isdigit():
            return max(1, min(MAX_COUNT, int(word)))
        if word in _NUMBERS and not (word in ("a", "an") and plural):
            return min(MAX_COUNT, _NUMBERS[word])
        if word in _BREAKS and word != "of":  # "a pair of swans"
            break
    return 3 if plural else 1


def find_subjects(prompt: str) -> tuple[Subject, ...]:
    """The drawable subjects ``prompt`` names, the main one first (at most four)."""
    toks = tokens(prompt)
    found: list[Subject] = []
    seen: set[str] = set()
    floor = 0  # the previous subject's end: a colour or a count does not reach past it
    i = 0
    while i < len(toks) and len(found) < _MAX_SUBJECTS:
        match = None
        for n in (3, 2, 1):
            words = toks[i : i + n]
            if len(words) < n:
                continue
            if n == 1 and any(w in _NOT_SUBJECTS for w in _singulars(words[0])):
                continue
            if n == 1 and _is_colour(words[0]):
                # A colour word is a noun only after another colour or an article ("a red
                # rose", "a rose"), never when a noun follows ("a rose garden").
                prev = toks[i - 1] if i else ""
                if not (prev in COLOUR_WORDS or prev in ("a", "an", "the")):
                    continue
                if i + 1 < len(toks) and toks[i + 1] not in _NOT_SUBJECTS:
                    continue
            match = _resolve(words)
            if match is not None:
                break
        if match is None:
            i += 1
            continue
        d, plural = match
        if d.name not in seen:
            seen.add(d.name)
            # A colour inside the name ("red car", an alias) binds too.
            colour = _bound_colour(toks, i + (toks[i] in COLOUR_WORDS), floor)
            found.append(
                Subject(
                    drawing=d,
                    word=" ".join(toks[i : i + n]),
                    count=_count(toks, i, floor, plural),
                    colour=colour[1] if colour else None,
                    colour_name=colour[0] if colour else None,
                )
            )
        i += n
        floor = i
    return tuple(found)
