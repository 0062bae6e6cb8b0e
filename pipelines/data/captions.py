"""Text -> image data: `(images, text)` batches, float32 NHWC in [-1, 1] and string [batch].

- `fashion_mnist_captions`: every Fashion-MNIST image paired with one description of its
  class, drawn from the shipped `captions/fashion_mnist.yaml` (six varied descriptions per
  class, written for tfgans).
- `captioned_folder`: a folder of PNG / JPEG images with a `captions.txt`, one
  `FILE<TAB>CAPTION` (or `FILE,CAPTION`) per line, FILE relative to the folder; a file may
  have several lines (several captions). Every image must have a caption and every caption
  an image: one clear error names the first line (or image) that is wrong.

Which description an example gets is drawn statelessly from (seed, example index, epoch)
(`pairs.example_key`), so the same seed gives the same batches, and rebuilding a pipeline
and skipping the batches already consumed (how the estimator resumes) gives the same
pairs as running on.

Example:
>>> images, text = next(iter(fashion_mnist_captions(8)))   # doctest: +SKIP
>>> text[0]                                               # doctest: +SKIP
b'a leather ankle boot with a low heel'
"""

import functools
import os
import re

import numpy as np
import tensorflow as tf
import yaml

from pipelines.data import common, folder, pairs
from pipelines.data.common import DataError
from pipelines.data.fashion_tasks import fashion_arrays
from pipelines.data.idx import FASHION_MNIST_DIR

#: The shipped descriptions of the Fashion-MNIST classes.
FASHION_CAPTIONS = os.path.join(os.path.dirname(__file__), "captions", "fashion_mnist.yaml")
#: The captions file of a `captioned_folder`.
CAPTIONS_FILE = "captions.txt"
#: The longest caption accepted, in characters.
MAX_CAPTION_CHARS = 500


@functools.lru_cache(maxsize=1)
def fashion_captions(path=FASHION_CAPTIONS):
    """The shipped descriptions: a tuple of 10 tuples of strings (class id order)."""
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    if sorted(data) != list(range(10)) or not all(data[c] for c in range(10)):
        raise DataError(f"{path} must map each class id 0-9 to a list of descriptions.")
    return tuple(tuple(str(t) for t in data[c]) for c in range(10))


def vocabulary(captions):
    """The tokeniser's vocabulary of `captions` (an iterable of strings): the distinct
    words after lower-casing and stripping punctuation (as
    `keras.layers.TextVectorization`'s default standardisation does), most frequent first,
    ties in alphabetical order."""
    counts = {}
    for caption in captions:
        for word in standardize(caption).split():
            counts[word] = counts.get(word, 0) + 1
    return sorted(counts, key=lambda w: (-counts[w], w))


def standardize(text):
    """Lower case, punctuation removed: TextVectorization's "lower_and_strip_punctuation"."""
    return re.sub(r"[!\"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~']", "", text.lower())


def fashion_vocabulary():
    """The vocabulary of the shipped Fashion-MNIST descriptions."""
    return vocabulary(c for per_class in fashion_captions() for c in per_class)


def _caption_table(per_item):
    """(strings [N, K] padded with "", counts int32 [N]) of a list of caption lists."""
    width = max(len(c) for c in per_item)
    table = np.array([list(c) + [""] * (width - len(c)) for c in per_item], dtype=object)
    return table, np.array([len(c) for c in per_item], np.int32)


def _pick(table, counts, seed):
    """example_fn(index, epoch, image, row) -> (image, one caption of `row`), drawn from
    (seed, index, epoch)."""
    table = tf.constant(table.astype(str).tolist(), tf.string)
    counts = tf.constant(counts, tf.int32)

    def example_fn(index, epoch, image, row):
        u = tf.random.stateless_uniform([], seed=pairs.example_key(seed, index, epoch))
        k = tf.minimum(tf.cast(u * tf.cast(counts[row], tf.float32), tf.int32), counts[row] - 1)
        return image, table[row, k]

    return example_fn


def _batch_fn(images, text):
    return common.to_float(images), text


def fashion_mnist_captions(
    batch_size, split="train", seed=0, *, source_dir=FASHION_MNIST_DIR, image_size=None,
    captions=None, **pipeline_kwargs,
):
    """Fashion-MNIST with a description of each image's class: `(images, text)`,
    images float32 [batch, 28, 28, 1] in [-1, 1], text string [batch].

    Args:
        batch_size, split, seed, source_dir, image_size: as in
            `fashion_tasks.edges2fashion`.
        captions: None (the shipped `fashion_captions()`), or 10 lists of descriptions.
        **pipeline_kwargs: shuffle, shuffle_buffer, cache, repeat, input_context.
    """
    images, labels = fashion_arrays(split, source_dir)
    per_class = fashion_captions() if captions is None else captions
    if len(per_class) != 10 or not all(per_class):
        raise DataError("`captions` must hold 10 non-empty lists of descriptions (one per class).")
    if len(images) < batch_size:
        raise DataError(
            f"Split {split!r} holds {len(images)} examples, fewer than batch_size={batch_size}."
        )
    size = common.normalize_image_size(image_size) or (28, 28)
    table, counts = _caption_table(per_class)
    dataset = tf.data.Dataset.from_tensor_slices((np.arange(len(images)), images, labels))
    if size != (28, 28):
        dataset = dataset.map(lambda i, x, y: (i, common.resize(x, size), y))
    dataset = dataset.map(lambda i, x, y: (i, (x, y)))
    return pairs.finish_paired(
        dataset, num_examples=len(images), batch_size=batch_size, seed=seed,
        example_fn=_pick(table, counts, seed), batch_fn=_batch_fn, **pipeline_kwargs,
    )


def read_captions(path):
    """Reads a folder's `captions.txt`: {file path: [captions]}, in file order.

    Each non-blank line is `FILE<TAB>CAPTION`, or `FILE,CAPTION` when there is no tab
    (split at the first comma); FILE is relative to the folder; lines starting with `#`
    are comments.

    Raises:
        DataError: the file is missing, or a line (named by number) has no separator, an
            empty file name or caption, a caption over `MAX_CAPTION_CHARS`, or names an
            image that does not exist.
    """
    captions_path = os.path.join(path, CAPTIONS_FILE)
    if not os.path.isfile(captions_path):
        raise DataError(
            f"{captions_path} is missing: a captioned folder needs a {CAPTIONS_FILE} with "
            "one 'FILE<TAB>CAPTION' line per image (data.path)."
        )
    try:
        with open(captions_path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"Cannot read {captions_path}: {e}") from None
    found = {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        sep = "\t" if "\t" in line else ","
        name, _, caption = line.partition(sep)
        name, caption = name.strip(), " ".join(caption.split())
        where = f"{captions_path} line {number}"
        if sep not in line or not name or not caption:
            raise DataError(
                f"{where} is not 'FILE<TAB>CAPTION' (or 'FILE,CAPTION'): {line[:80]!r}; "
                "give each image's file name and its caption."
            )
        if len(caption) > MAX_CAPTION_CHARS:
            raise DataError(f"{where}: the caption is over {MAX_CAPTION_CHARS} characters.")
        file = os.path.normpath(os.path.join(path, name))
        if not os.path.isfile(file):
            raise DataError(f"{where} names {name!r}, which is not a file in {path}.")
        found.setdefault(file, []).append(caption)
    if not found:
        raise DataError(f"{captions_path} holds no captions: add 'FILE<TAB>CAPTION' lines.")
    return found


def folder_vocabulary(path):
    """The vocabulary of a captioned folder's `captions.txt`."""
    return vocabulary(c for per_file in read_captions(path).values() for c in per_file)


def captioned_folder(path, batch_size, seed=0, *, channels=None, image_size=None,
                     **pipeline_kwargs):
    """A folder of images with a `captions.txt` as `(images, text)` batches.

    Args:
        path: the folder; every image under it needs at least one caption line.
        batch_size, seed, channels, image_size: as in `folder.image_folder`.
        **pipeline_kwargs: shuffle, shuffle_buffer, cache, repeat, input_context.

    Raises:
        DataError: see `read_captions`, plus an image without a caption (named),
            unreadable images, mixed sizes without `image_size`, too few images.
    """
    common.check_batch_size(batch_size)
    size = common.normalize_image_size(image_size)
    if channels not in (None, 1, 3):
        raise DataError(f"`channels` must be None, 1 or 3. Received: channels={channels!r}")
    found = read_captions(path)
    files, _, _ = folder.list_image_folder(path)
    missing = [f for f in files if os.path.normpath(f) not in found]
    if missing:
        raise DataError(
            f"{missing[0]} has no caption in {os.path.join(path, CAPTIONS_FILE)} "
            f"({len(missing)} image(s) without one): add a line for each image."
        )
    files = list(found)
    headers = [folder.read_image_header(f) for f in files]
    if size is None and len({h[:2] for h in headers}) > 1:
        raise DataError(
            f"Images in {path} have different sizes: set image_size (data.image_size) to "
            "resize them."
        )
    if len(files) < batch_size:
        raise DataError(
            f"Captioned folder {path} holds {len(files)} images, fewer than "
            f"batch_size={batch_size}."
        )
    if channels is None:
        channels = 1 if all(h[2] in (1, 2) for h in headers) else 3
    shape = (*(size or headers[0][:2]), channels)
    table, counts = _caption_table([found[f] for f in files])

    def load(raw):
        file, row = raw
        image = tf.io.decode_image(tf.io.read_file(file), channels=channels, dtype=tf.uint8,
                                   expand_animations=False)
        if size is not None:
            image = common.resize(image, size)
        return tf.ensure_shape(image, shape), row

    dataset = tf.data.Dataset.from_tensor_slices(
        (np.arange(len(files)), (np.asarray(files), np.arange(len(files), dtype=np.int32))))
    return pairs.finish_paired(
        dataset, num_examples=len(files), batch_size=batch_size, seed=seed, load_fn=load,
        example_fn=_pick(table, counts, seed), batch_fn=_batch_fn, **pipeline_kwargs,
    )


def resolve_text_keys(data_name, path, model_values):
    """Fills the model keys a text -> image config leaves null from the data's captions:
    `vocabulary` (the captions' words), `sample_texts` (the first description of each
    Fashion-MNIST class; for a captioned folder, its first 10 distinct captions) and
    `class_texts` (true only for the Fashion-MNIST captions' default sample texts).

    Raises:
        DataError: the data is not a captioned dataset.
    """
    if data_name == "fashion_mnist_captions":
        vocab, samples = fashion_vocabulary, lambda: [c[0] for c in fashion_captions()]
    elif data_name == "captioned_folder":
        def vocab():
            return folder_vocabulary(path)

        def samples():
            distinct = dict.fromkeys(c for per in read_captions(path).values() for c in per)
            return list(distinct)[:10]
    else:
        raise DataError(
            f"A text -> image model needs (images, text) data: set data.name to "
            f"fashion_mnist_captions or captioned_folder. Received: data.name={data_name!r}")
    values = dict(model_values)
    if "vocabulary" in values and values["vocabulary"] is None:
        values["vocabulary"] = vocab()
    if "class_texts" in values and values["class_texts"] is None:
        # The default sample texts of the Fashion-MNIST captions are one per class.
        values["class_texts"] = (data_name == "fashion_mnist_captions"
                                 and values.get("sample_texts") is None)
    if "sample_texts" in values and values["sample_texts"] is None:
        values["sample_texts"] = samples()
    return values
