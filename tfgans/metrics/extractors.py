"""Feature extractors: images in [-1, 1] -> features (FID, KID, precision/recall) and logits
(Inception Score, class accuracy).

Every extractor has the same interface:

    extractor.features(images)             -> float32 [B, feature_dim]
    extractor.logits(images)               -> float32 [B, num_classes]
    extractor.features_and_logits(images)  -> both, in one pass

taking float images NHWC in [-1, 1] (NumPy arrays or tensors of any batch size; they are
run in batches of `batch_size`). Two are provided, also by name through `get_extractor`:

- "fashion_mnist": `FashionMNISTClassifier`, the small CNN committed in
  `saved_models/fashion_mnist_classifier/` (128-d features), for 28x28x1 images.
- "inception": `InceptionFeatures`, Keras' InceptionV3 pool features (2048-d) and ImageNet
  logits, for images of any size with 1 or 3 channels.
"""

import os

import keras
import numpy as np

from tfgans.registry import Registry

__all__ = [
    "EXTRACTORS",
    "FashionMNISTClassifier",
    "FeatureExtractor",
    "InceptionFeatures",
    "KerasClassifierFeatures",
    "default_classifier_path",
    "get_extractor",
]

EXTRACTORS = Registry("feature extractor")

CLASSIFIER_PATH_ENV = "TFGANS_FASHION_MNIST_CLASSIFIER"
_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class FeatureExtractor:
    """Base class: runs `model` (images -> [features, logits]) in batches.

    Subclasses set `self.model`, `self.image_shape` ((H, W, C), or None for "any size,
    1 or 3 channels"), `self.feature_dim` and `self.num_classes`.

    Values are checked: images must be float NHWC. Integer images (uint8 in [0, 255]) and
    float images far outside [-1, 1] (beyond [-2, 2]) are a ValueError; values slightly
    outside [-1, 1] (a generator without a final tanh) are clipped.
    """

    name = "extractor"
    image_shape = None

    def __init__(self, batch_size=256):
        if batch_size < 1:
            raise ValueError(f"`batch_size` must be positive. Received `batch_size={batch_size}`.")
        self.batch_size = batch_size

    def check_images(self, images):
        """Returns `images` as float32 NumPy in [-1, 1], or raises one clear ValueError."""
        if not isinstance(images, np.ndarray):
            images = keras.ops.convert_to_numpy(images)
        expected = (
            f"[batch, {', '.join(map(str, self.image_shape))}]"
            if self.image_shape
            else "[batch, height, width, 1 or 3]"
        )
        if self.image_shape:
            bad_shape = images.ndim != 4 or tuple(images.shape[1:]) != tuple(self.image_shape)
        else:
            bad_shape = images.ndim != 4 or images.shape[-1] not in (1, 3)
        if bad_shape:
            raise ValueError(
                f"The {self.name} feature extractor expects images of shape {expected} "
                f"in [-1, 1]. Received shape {tuple(images.shape)}."
            )
        if not np.issubdtype(images.dtype, np.floating):
            raise ValueError(
                f"The {self.name} feature extractor expects float images in [-1, 1]. "
                f"Received dtype {images.dtype}: convert with `images / 127.5 - 1`."
            )
        images = images.astype(np.float32, copy=False)
        if images.size and (images.min() < -2.0 or images.max() > 2.0):
            raise ValueError(
                f"The {self.name} feature extractor expects images in [-1, 1]. Received "
                f"values in [{images.min():g}, {images.max():g}]."
            )
        return np.clip(images, -1.0, 1.0)

    def preprocess(self, images):
        """Maps a batch of checked images to the model's input (identity here)."""
        return images

    def features_and_logits(self, images):
        """Returns (features float32 [B, feature_dim], logits float32 [B, num_classes])."""
        images = self.check_images(images)
        features = [np.zeros((0, self.feature_dim), np.float32)]
        logits = [np.zeros((0, self.num_classes), np.float32)]
        for start in range(0, len(images), self.batch_size):
            batch = images[start : start + self.batch_size]
            size = len(batch)
            if start and size < self.batch_size:  # pad the last batch: no new trace
                batch = np.concatenate([batch, np.zeros_like(images[: self.batch_size - size])])
            f, lg = self.model.predict_on_batch(self.preprocess(batch))
            features.append(np.asarray(f, np.float32)[:size])
            logits.append(np.asarray(lg, np.float32)[:size])
        return np.concatenate(features), np.concatenate(logits)

    def features(self, images):
        """Features [B, feature_dim] of images in [-1, 1]."""
        return self.features_and_logits(images)[0]

    def logits(self, images):
        """Class logits [B, num_classes] of images in [-1, 1]."""
        return self.features_and_logits(images)[1]


class KerasClassifierFeatures(FeatureExtractor):
    """Features and logits of a Keras functional classifier (images in [-1, 1] -> logits).

    Args:
        model: a `keras.Model`, or the path of a `.keras` file (loaded with
            `safe_mode=True`, so it must hold standard layers only).
        feature_layer: name of the layer whose output is the feature vector.
        batch_size: images per forward pass.
    """

    name = "classifier"

    def __init__(self, model, feature_layer="features", batch_size=500):
        super().__init__(batch_size)
        if isinstance(model, (str, os.PathLike)):
            if not os.path.exists(model):
                raise FileNotFoundError(f"Classifier file {model} not found.")
            model = keras.models.load_model(model, safe_mode=True, compile=False)
        self.classifier = model
        self.feature_layer = feature_layer
        features = model.get_layer(feature_layer).output
        self.model = keras.Model(model.inputs, [features, model.outputs[0]])
        self.image_shape = tuple(model.inputs[0].shape[1:])
        self.feature_dim = int(features.shape[-1])
        self.num_classes = int(model.outputs[0].shape[-1])


def default_classifier_path():
    """Path of the committed Fashion-MNIST classifier (`$TFGANS_FASHION_MNIST_CLASSIFIER`
    overrides it)."""
    return os.environ.get(CLASSIFIER_PATH_ENV) or os.path.join(
        _REPO_ROOT, "saved_models", "fashion_mnist_classifier", "classifier.keras"
    )


@EXTRACTORS.register("fashion_mnist")
class FashionMNISTClassifier(KerasClassifierFeatures):
    """The committed Fashion-MNIST classifier: 28x28x1 images -> 128-d features, 10 logits.

    Trained by `python -m pipelines.train_classifier` (command, seed and test accuracy in
    `saved_models/fashion_mnist_classifier/metadata.json`); loads offline.

    Args:
        path: the `.keras` file; default `default_classifier_path()`.
        batch_size: images per forward pass.

    Example:
    >>> extractor = FashionMNISTClassifier()
    >>> extractor.features(np.zeros((2, 28, 28, 1), np.float32)).shape
    (2, 128)
    """

    name = "fashion_mnist"

    def __init__(self, path=None, batch_size=500):
        path = path or default_classifier_path()
        if not os.path.exists(path):
            raise FileNotFoundError(
                f"Fashion-MNIST classifier {path} not found: run `python -m "
                f"pipelines.train_classifier` in the tfgans repository, or set "
                f"${CLASSIFIER_PATH_ENV} to the .keras file."
            )
        super().__init__(path, feature_layer="features", batch_size=batch_size)
        self.path = path


def inception_weights_path():
    """Where Keras keeps the downloaded InceptionV3 ImageNet weights (with the top)."""
    home = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    return os.path.join(home, "models", "inception_v3_weights_tf_dim_ordering_tf_kernels.h5")


@EXTRACTORS.register("inception")
class InceptionFeatures(FeatureExtractor):
    """InceptionV3 pool features (2048-d) and ImageNet logits (1000) of images in [-1, 1].

    Images are resized bilinearly to 299x299 (no antialiasing, as TF-GAN does), grayscale
    is tiled to 3 channels, and Inception's preprocessing maps [0, 255] to [-1, 1], which
    is where the images already are. Note: these are Keras' InceptionV3 weights, not the
    2015 TF graph that published FIDs use, so absolute values differ from papers'; compare
    numbers computed with the same extractor.

    Args:
        weights: "imagenet" (downloaded by Keras; needs a network once), the path of a
            weights file for `keras.applications.InceptionV3(include_top=True)`, or None
            (random weights: for tests of shapes and plumbing only).
        batch_size: images per forward pass.

    Example:
    >>> extractor = InceptionFeatures(weights=None, batch_size=2)
    >>> extractor.features(np.zeros((2, 28, 28, 1), np.float32)).shape
    (2, 2048)
    """

    name = "inception"
    feature_dim = 2048
    num_classes = 1000

    def __init__(self, weights="imagenet", batch_size=50):
        super().__init__(batch_size)
        if weights not in ("imagenet", None) and not os.path.exists(weights):
            raise FileNotFoundError(f"InceptionV3 weights file {weights} not found.")
        self.weights = weights
        if weights == "imagenet" and not os.path.exists(inception_weights_path()):
            from tfgans.offline import require_network

            require_network(
                "storage.googleapis.com", "the InceptionV3 ImageNet weights",
                f"Copy {os.path.basename(inception_weights_path())} into "
                f"{os.path.dirname(inception_weights_path())}, pass its path as `weights`, or use "
                "the fashion_mnist extractor (--extractor fashion_mnist).",
            )
        base = keras.applications.InceptionV3(
            include_top=True, weights=weights, classifier_activation=None
        )
        self.model = keras.Model(base.input, [base.get_layer("avg_pool").output, base.output])

    def preprocess(self, images):
        x = keras.ops.image.resize(images, (299, 299), interpolation="bilinear")
        if images.shape[-1] == 1:
            x = keras.ops.tile(x, (1, 1, 1, 3))
        return x


def get_extractor(extractor="fashion_mnist", **kwargs):
    """Returns a `FeatureExtractor`: an instance as is, or one built by registered name
    ("fashion_mnist", "inception") with `kwargs`."""
    if isinstance(extractor, FeatureExtractor):
        return extractor
    return EXTRACTORS.get(extractor)(**kwargs)
