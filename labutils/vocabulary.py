"""The dataset's vocabulary: class names and colours, breeds and species, defined once.

Every module, figure and lesson reads these names from here. Taught in lesson 03, §3 "What
do the mask values mean?" (classes) and §4 "Cats, dogs and breeds". It imports only the
standard library, so the command line and the instructor tools can use it without TensorFlow.

>>> CLASS_NAMES[0], NUM_CLASSES, len(BREED_NAMES)
('pet', 3, 37)
>>> SPECIES_NAMES[species_of(BREED_NAMES.index("Bengal"))], SPECIES_NAMES[species_of(1)]
('cat', 'dog')
"""

from __future__ import annotations

__all__ = [
    "BREED_NAMES",
    "CLASS_COLORS",
    "CLASS_NAMES",
    "NUM_CLASSES",
    "SPECIES_COLORS",
    "SPECIES_NAMES",
    "species_of",
]

#: Class names of ``mask - 1``: index 0 = pet, 1 = background, 2 = border.
CLASS_NAMES = ("pet", "background", "border")
NUM_CLASSES = len(CLASS_NAMES)
#: One RGB colour per class, in the order of ``CLASS_NAMES``: Okabe–Ito vermilion (pet),
#: blue (background) and yellow (border), readable with colour blindness.
CLASS_COLORS: tuple[tuple[int, int, int], ...] = ((213, 94, 0), (0, 114, 178), (240, 228, 66))

#: The 37 breeds in the order of ``label`` (TFDS's order; cat breeds are capitalised).
BREED_NAMES = (
    "Abyssinian", "american_bulldog", "american_pit_bull_terrier", "basset_hound", "beagle",
    "Bengal", "Birman", "Bombay", "boxer", "British_Shorthair", "chihuahua", "Egyptian_Mau",
    "english_cocker_spaniel", "english_setter", "german_shorthaired", "great_pyrenees",
    "havanese", "japanese_chin", "keeshond", "leonberger", "Maine_Coon", "miniature_pinscher",
    "newfoundland", "Persian", "pomeranian", "pug", "Ragdoll", "Russian_Blue", "saint_bernard",
    "samoyed", "scottish_terrier", "shiba_inu", "Siamese", "Sphynx",
    "staffordshire_bull_terrier", "wheaten_terrier", "yorkshire_terrier",
)  # fmt: skip
#: ``species``: 0 = cat, 1 = dog.
SPECIES_NAMES = ("cat", "dog")
#: Okabe–Ito reddish purple (cat) and bluish green (dog).
SPECIES_COLORS = ("#CC79A7", "#009E73")


def species_of(label: int) -> int:
    """The species (0 = cat, 1 = dog) of breed ``label``: the dataset capitalises cat breeds.

    Used in lesson 03, §4 "Cats, dogs and breeds", and by the synthetic source.

    >>> species_of(0), BREED_NAMES[0]
    (0, 'Abyssinian')
    """
    return 0 if BREED_NAMES[label][0].isupper() else 1
