"""Prompt analysis shared by the procedural renderers and the prompt utilities.

The local engine has no language model, so a prompt is read through small, explicit
vocabularies: colour words steer the palette, subject words the composition, mood words the
grade (brightness, contrast, saturation, softness) and a few scene words (``sunset``,
``night``, ``autumn`` ...) pick a lighting palette when no colour is named. Everything here is
pure Python and deterministic, so other code (e.g. prompt-extract) can reuse the vocabulary.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

RGB = tuple[int, int, int]

COLOUR_WORDS: dict[str, RGB] = {
    # reds
    "red": (214, 40, 40),
    "crimson": (196, 18, 58),
    "scarlet": (245, 40, 10),
    "ruby": (180, 16, 60),
    "maroon": (120, 10, 32),
    "burgundy": (122, 12, 42),
    "rust": (183, 65, 14),
    # blues
    "blue": (36, 90, 224),
    "navy": (18, 28, 96),
    "azure": (40, 130, 250),
    "cobalt": (0, 71, 171),
    "sapphire": (15, 82, 186),
    "indigo": (70, 20, 140),
    "cyan": (0, 206, 230),
    "aqua": (20, 216, 216),
    "teal": (0, 128, 128),
    "turquoise": (56, 214, 200),
    # greens
    "green": (40, 168, 70),
    "emerald": (0, 155, 90),
    "jade": (0, 168, 107),
    "lime": (160, 228, 40),
    "olive": (110, 120, 40),
    "mint": (150, 228, 190),
    "sage": (150, 170, 130),
    # yellows, oranges, browns
    "gold": (232, 180, 40),
    "golden": (236, 184, 60),
    "yellow": (248, 218, 40),
    "amber": (255, 172, 0),
    "orange": (248, 128, 28),
    "copper": (184, 115, 51),
    "bronze": (176, 118, 48),
    "brown": (118, 74, 40),
    "tan": (210, 180, 140),
    "beige": (225, 210, 180),
    "sepia": (112, 66, 20),
    # purples, pinks
    "purple": (128, 48, 180),
    "violet": (138, 68, 220),
    "magenta": (228, 30, 160),
    "lavender": (180, 160, 230),
    "lilac": (200, 160, 220),
    "plum": (142, 69, 133),
    "pink": (245, 128, 180),
    "rose": (238, 88, 120),
    "coral": (255, 118, 88),
    "peach": (255, 190, 150),
    "salmon": (250, 128, 114),
    # neutrals
    "black": (12, 12, 14),
    "charcoal": (54, 57, 62),
    "grey": (128, 128, 132),
    "gray": (128, 128, 132),
    "silver": (192, 196, 204),
    "white": (245, 245, 245),
    "ivory": (250, 245, 225),
    "cream": (250, 240, 210),
}

# Words placed just before a colour word that alter it ("dark blue", "pastel pink").
COLOUR_MODIFIERS: dict[str, str] = {
    "dark": "dark",
    "deep": "dark",
    "light": "light",
    "pale": "light",
    "pastel": "light",
    "soft": "light",
    "bright": "vivid",
    "vivid": "vivid",
    "neon": "vivid",
    "electric": "vivid",
    "muted": "muted",
    "dusty": "muted",
}

SUBJECT_WORDS: dict[str, str] = {}
_SUBJECT_GROUPS: dict[str, tuple[str, ...]] = {
    "sun": ("sun", "sunset", "sunrise", "sunny", "sunlight", "sunshine", "sundown"),
    "moon": ("moon", "moonlight", "moonlit", "crescent", "lunar", "moonrise"),
    "mountain": (
        "mountain",
        "mount",
        "peak",
        "alps",
        "hill",
        "cliff",
        "volcano",
        "summit",
        "ridge",
        "canyon",
        "highland",
        "valley",
    ),
    "water": (
        "ocean",
        "sea",
        "lake",
        "river",
        "water",
        "beach",
        "bay",
        "coast",
        "shore",
        "pond",
        "wave",
        "harbor",
        "harbour",
        "lagoon",
        "seascape",
        "reflection",
    ),
    "forest": (
        "forest",
        "tree",
        "woods",
        "woodland",
        "jungle",
        "pine",
        "grove",
        "oak",
        "birch",
        "redwood",
        "rainforest",
    ),
    "city": (
        "city",
        "skyline",
        "building",
        "skyscraper",
        "street",
        "town",
        "downtown",
        "metropolis",
        "cityscape",
        "urban",
        "tower",
        "architecture",
        "cyberpunk",
    ),
    "figure": (
        "portrait",
        "face",
        "person",
        "woman",
        "man",
        "girl",
        "boy",
        "character",
        "people",
        "warrior",
        "knight",
        "lady",
        "child",
        "figure",
        "selfie",
        "astronaut",
        "king",
        "queen",
        "princess",
        "samurai",
        "witch",
        "wizard",
        "headshot",
    ),
    "stars": (
        "star",
        "night",
        "space",
        "galaxy",
        "cosmos",
        "nebula",
        "universe",
        "starry",
        "constellation",
        "milky",
        "cosmic",
        "midnight",
    ),
    "clouds": ("cloud", "cloudy", "sky", "storm", "stormy", "overcast", "skies", "thunder"),
    "desert": ("desert", "dune", "sand", "sahara", "savanna"),
    "flowers": ("flower", "garden", "meadow", "blossom", "tulip", "bloom", "floral", "petal"),
    "snow": ("snow", "winter", "snowy", "ice", "frozen", "glacier", "arctic", "icy"),
}
for _subject, _words in _SUBJECT_GROUPS.items():
    for _word in _words:
        SUBJECT_WORDS[_word] = _subject

MOOD_WORDS: dict[str, str] = {}
_MOOD_GROUPS: dict[str, tuple[str, ...]] = {
    "calm": ("calm", "serene", "peaceful", "tranquil", "quiet", "gentle", "relaxing", "still"),
    "dark": ("dark", "gloomy", "grim", "sinister", "ominous", "shadowy", "horror", "noir"),
    "moody": (
        "moody",
        "melancholic",
        "melancholy",
        "somber",
        "sombre",
        "brooding",
        "atmospheric",
        "foggy",
        "misty",
        "rainy",
    ),
    "bright": ("bright", "luminous", "radiant", "brilliant", "airy", "sunlit"),
    "happy": ("happy", "cheerful", "joyful", "playful", "fun", "whimsical", "cute", "vibrant"),
    "dramatic": ("dramatic", "epic", "intense", "cinematic", "powerful", "stormy", "majestic"),
    "dreamy": (
        "dreamy",
        "ethereal",
        "magical",
        "surreal",
        "fantasy",
        "mystical",
        "hazy",
        "fairytale",
        "dream",
    ),
}
for _mood, _words in _MOOD_GROUPS.items():
    for _word in _words:
        MOOD_WORDS[_word] = _mood

# How each mood grades the picture: brightness (x), contrast (x), saturation (x),
# softness (0..1, blur/bloom amount) and vignette (0..1).
MOOD_EFFECTS: dict[str, tuple[float, float, float, float, float]] = {
    "calm": (1.04, 0.84, 0.88, 0.25, 0.05),
    "dark": (0.58, 1.12, 0.86, 0.0, 0.35),
    "moody": (0.76, 1.12, 0.70, 0.15, 0.30),
    "bright": (1.22, 0.94, 1.08, 0.05, 0.0),
    "happy": (1.12, 1.02, 1.28, 0.05, 0.0),
    "dramatic": (0.94, 1.38, 1.12, 0.0, 0.45),
    "dreamy": (1.08, 0.80, 0.92, 0.60, 0.10),
}

# Scene words that pick a lighting palette when the prompt names no colour.
SCENE_WORDS: dict[str, str] = {}
_SCENE_GROUPS: dict[str, tuple[str, ...]] = {
    "sunset": ("sunset", "sundown", "dusk", "evening", "twilight", "golden"),
    "dawn": ("sunrise", "dawn", "morning", "daybreak"),
    "night": (
        "night",
        "midnight",
        "starry",
        "moonlit",
        "moon",
        "moonlight",
        "moonrise",
        "nocturnal",
    ),
    "storm": ("storm", "stormy", "thunder", "thunderstorm", "lightning", "tempest"),
    "space": ("space", "galaxy", "nebula", "cosmos", "universe", "cosmic", "astronaut"),
    "day": ("day", "noon", "sunny", "summer", "daylight", "afternoon"),
    "autumn": ("autumn", "fall", "harvest"),
    "winter": ("winter", "snow", "snowy", "frozen", "ice", "icy", "arctic", "glacier"),
    "spring": ("spring", "blossom", "cherry", "sakura"),
    "mist": ("fog", "foggy", "mist", "misty", "haze", "hazy", "rainy", "overcast"),
    "fire": ("fire", "lava", "flame", "flames", "inferno", "volcano", "burning", "ember"),
    "neon": ("neon", "cyberpunk", "synthwave", "vaporwave", "retrowave"),
    "forest": ("forest", "jungle", "woods", "woodland", "rainforest"),
    "ocean": ("ocean", "sea", "underwater", "lagoon", "tropical"),
    "desert": ("desert", "dune", "sahara", "sand"),
}
for _scene, _words in _SCENE_GROUPS.items():
    for _word in _words:
        SCENE_WORDS.setdefault(_word, _scene)

_WORD_RE = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class PromptTraits:
    """What a prompt asks for, as far as the procedural renderers can tell."""

    prompt: str
    negative: str
    words: tuple[str, ...]
    colours: tuple[tuple[str, RGB], ...]
    subjects: tuple[str, ...]
    moods: tuple[str, ...]
    scenes: tuple[str, ...]
    negative_colours: tuple[tuple[str, RGB], ...]
    negative_subjects: tuple[str, ...]
    negative_moods: tuple[str, ...]
    brightness: float
    contrast: float
    saturation: float
    softness: float
    vignette: float
    digest: str

    def has(self, subject: str) -> bool:
        """Whether ``subject`` (a key of SUBJECT_WORDS' values) is in the prompt."""
        return subject in self.subjects


def _lemma(word: str, vocab: dict[str, str] | dict[str, RGB]) -> str | None:
    """Map a word (or a simple plural of it) onto a vocabulary key."""
    if word in vocab:
        return word
    if word.endswith("ies") and word[:-3] + "y" in vocab:
        return word[:-3] + "y"
    if word.endswith("es") and word[:-2] in vocab:
        return word[:-2]
    if word.endswith("s") and word[:-1] in vocab:
        return word[:-1]
    return None


def tokenize(text: str) -> tuple[str, ...]:
    """Lower-case alphabetic words of ``text``, in order."""
    return tuple(_WORD_RE.findall(text.lower()))


def _modify(rgb: RGB, modifier: str | None) -> RGB:
    r, g, b = rgb
    if modifier == "dark":
        return (int(r * 0.55), int(g * 0.55), int(b * 0.55))
    if modifier == "light":
        return (int(r + (255 - r) * 0.5), int(g + (255 - g) * 0.5), int(b + (255 - b) * 0.5))
    if modifier in ("vivid", "muted"):
        mean = (r + g + b) / 3
        k = 1.35 if modifier == "vivid" else 0.5
        return tuple(int(min(255, max(0, mean + (c - mean) * k))) for c in rgb)  # type: ignore[return-value]
    return rgb


def _colours(words: tuple[str, ...]) -> tuple[tuple[tuple[str, RGB], ...], set[int]]:
    """Colour words (with modifiers applied) and the indexes of words used as modifiers."""
    found: list[tuple[str, RGB]] = []
    modifier_positions: set[int] = set()
    seen: set[str] = set()
    for i, word in enumerate(words):
        key = _lemma(word, COLOUR_WORDS)
        if key is None:
            continue
        modifier = None
        if i > 0 and words[i - 1] in COLOUR_MODIFIERS:
            modifier = COLOUR_MODIFIERS[words[i - 1]]
            modifier_positions.add(i - 1)
        name = f"{words[i - 1]} {key}" if modifier else key
        if name not in seen:
            seen.add(name)
            found.append((name, _modify(COLOUR_WORDS[key], modifier)))
    return tuple(found), modifier_positions


def _keys(words: tuple[str, ...], vocab: dict[str, str], skip: set[int]) -> tuple[str, ...]:
    out: list[str] = []
    for i, word in enumerate(words):
        if i in skip:
            continue
        key = _lemma(word, vocab)
        if key is not None and vocab[key] not in out:
            out.append(vocab[key])
    return tuple(out)


def analyse_prompt(prompt: str, negative: str = "") -> PromptTraits:
    """Extract colours, subjects, moods and scene hints from a prompt and its negative."""
    words = tokenize(prompt)
    neg_words = tokenize(negative)
    colours, modifier_positions = _colours(words)
    neg_colours, neg_modifier_positions = _colours(neg_words)
    neg_colour_bases = {name.split()[-1] for name, _ in neg_colours}
    colours = tuple(c for c in colours if c[0].split()[-1] not in neg_colour_bases)

    neg_subjects = _keys(neg_words, SUBJECT_WORDS, neg_modifier_positions)
    subjects = tuple(
        s for s in _keys(words, SUBJECT_WORDS, modifier_positions) if s not in neg_subjects
    )
    neg_moods = _keys(neg_words, MOOD_WORDS, neg_modifier_positions)
    moods = tuple(m for m in _keys(words, MOOD_WORDS, modifier_positions) if m not in neg_moods)
    neg_scenes = _keys(neg_words, SCENE_WORDS, neg_modifier_positions)
    scenes = tuple(s for s in _keys(words, SCENE_WORDS, modifier_positions) if s not in neg_scenes)

    brightness = contrast = saturation = 1.0
    softness = vignette = 0.0
    for mood in moods:
        b, c, s, soft, vig = MOOD_EFFECTS[mood]
        brightness *= b
        contrast *= c
        saturation *= s
        softness = max(softness, soft)
        vignette = max(vignette, vig)
    # Moods named in the negative prompt push the other way, gently.
    for mood in neg_moods:
        b, c, s, _soft, _vig = MOOD_EFFECTS[mood]
        brightness /= b**0.5
        contrast /= c**0.5
        saturation /= s**0.5

    canonical = " ".join(words) + "|" + " ".join(neg_words)
    digest = hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()
    return PromptTraits(
        prompt=prompt,
        negative=negative,
        words=words,
        colours=colours,
        subjects=subjects,
        moods=moods,
        scenes=scenes,
        negative_colours=neg_colours,
        negative_subjects=neg_subjects,
        negative_moods=neg_moods,
        brightness=round(brightness, 4),
        contrast=round(contrast, 4),
        saturation=round(saturation, 4),
        softness=softness,
        vignette=vignette,
        digest=digest,
    )
