"""Trains the Fashion-MNIST classifier whose features tfgans' metrics use, and measures
the real-data floor (the metrics between Fashion-MNIST train and test images).

Run from the repository root (about 5 minutes on 2 CPU cores; the committed model was
made with exactly this command):

    .venv/bin/python -m pipelines.train_classifier --seed 0 --epochs 8
    .venv/bin/python -m pipelines.train_classifier --floor   # real_data_floor.json only

It writes, into `saved_models/fashion_mnist_classifier/`:
    classifier.keras         the model: images [B, 28, 28, 1] in [-1, 1] -> logits [B, 10];
                             its layer "features" (128-d, linear, before a ReLU) gives
                             the features
    metadata.json            test accuracy, command, seed, training time
    real_data_floor.json     FID / KID / IS / precision / recall between 10k train images
                             (sampled with `--floor-seed`) and the 10k test images

Only standard Keras layers are used, so `keras.models.load_model(path, safe_mode=True)`
loads the model with no tfgans code. Training uses the 60k train split only; the test split
is used once, for the reported accuracy.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

OUT_DIR = os.path.join("saved_models", "fashion_mnist_classifier")
MODEL_FILE = "classifier.keras"
FEATURE_DIM = 128


def build_classifier(filters=(32, 64, 128), feature_dim=FEATURE_DIM, num_classes=10):
    """A small CNN: 3 conv-BN-ReLU-maxpool blocks, a linear `features` dense layer, logits."""
    import keras
    from keras import layers

    def conv_block(x, width, name):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
        x = layers.ReLU(name=f"{name}_relu")(x)
        return layers.MaxPooling2D(name=f"{name}_pool")(x)  # 28 -> 14 -> 7 -> 3

    inputs = keras.Input((28, 28, 1), name="images")
    x = conv_block(inputs, filters[0], "block1")
    x = conv_block(x, filters[1], "block2")
    x = conv_block(x, filters[2], "block3")
    x = layers.Flatten(name="flatten")(x)
    # The feature vector is the dense layer's linear output: ReLU features would leave
    # dead (always 0) dimensions, which FID and KID would carry for nothing.
    features = layers.Dense(feature_dim, name="features")(x)
    x = layers.ReLU(name="features_relu")(features)
    x = layers.Dropout(0.3, name="features_dropout")(x)
    logits = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, logits, name="fashion_mnist_classifier")


def _to_unit_range(images):
    return images.astype(np.float32)[..., None] / 127.5 - 1.0


def train(seed=0, epochs=8, batch_size=128, out_dir=OUT_DIR):
    """Trains, evaluates on the test split, saves the model and metadata.json."""
    import keras
    import tensorflow as tf

    from pipelines.data.idx import load_fashion_mnist_arrays

    keras.utils.set_random_seed(seed)
    x_train, y_train = load_fashion_mnist_arrays("train")
    x_test, y_test = load_fashion_mnist_arrays("test")
    x_train, x_test = _to_unit_range(x_train), _to_unit_range(x_test)

    def augment(images, labels):  # Fashion-MNIST is left-right symmetric; flips help.
        return tf.image.random_flip_left_right(images, seed=seed), labels

    train_ds = (
        tf.data.Dataset.from_tensor_slices((x_train, y_train))
        .shuffle(len(x_train), seed=seed, reshuffle_each_iteration=True)
        .map(augment, num_parallel_calls=tf.data.AUTOTUNE)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    steps = epochs * int(np.ceil(len(x_train) / batch_size))
    model = build_classifier()
    model.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    start = time.time()
    model.fit(train_ds, epochs=epochs, verbose=2)
    train_seconds = time.time() - start
    _, test_accuracy = model.evaluate(x_test, y_test, batch_size=500, verbose=0)
    print(f"test accuracy: {test_accuracy:.4f} ({train_seconds:.0f} s of training)")

    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, MODEL_FILE)
    tmp = path + ".tmp.keras"
    inference_model = build_classifier()  # uncompiled: no optimizer state in the file
    inference_model.set_weights(model.get_weights())
    inference_model.save(tmp)
    os.replace(tmp, path)
    metadata = {
        "model_file": MODEL_FILE,
        "input": "float32 [B, 28, 28, 1] in [-1, 1]",
        "feature_layer": "features (the Dense layer's linear output, before its ReLU)",
        "feature_dim": FEATURE_DIM,
        "num_classes": 10,
        "test_accuracy": round(float(test_accuracy), 4),
        "command": f"python -m pipelines.train_classifier --seed {seed} --epochs {epochs}"
        + (f" --batch-size {batch_size}" if batch_size != 128 else ""),
        "seed": seed,
        "epochs": epochs,
        "batch_size": batch_size,
        "train_seconds": round(train_seconds),
        "machine": f"{os.cpu_count()} CPU cores",
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__},
    }
    _write_json(os.path.join(out_dir, "metadata.json"), metadata)
    return model, metadata


def real_data_floor(num_samples=10_000, seed=0, out_dir=OUT_DIR):
    """Metrics between `num_samples` train images (drawn with `seed`) and the test images.

    The train images play the "real" side, the test images the "generated" side, both with
    their true labels (so `class_accuracy` is the classifier's test accuracy, and
    `intra_fid` is measured per true class). Writes `real_data_floor.json`.
    """
    from pipelines.data.idx import load_fashion_mnist_arrays
    from tfgans.metrics import Evaluator, FashionMNISTClassifier

    x_train, y_train = load_fashion_mnist_arrays("train")
    x_test, y_test = load_fashion_mnist_arrays("test")
    index = np.random.default_rng(seed).choice(len(x_train), num_samples, replace=False)
    extractor = FashionMNISTClassifier(os.path.join(out_dir, MODEL_FILE))
    evaluator = Evaluator(extractor, seed=seed)
    start = time.time()
    evaluator.update_real(_to_unit_range(x_train[index]), y_train[index])
    evaluator.update_fake(_to_unit_range(x_test[:num_samples]), y_test[:num_samples])
    result = evaluator.result()
    floor = {
        "description": (
            f"Fashion-MNIST: {num_samples} train images (numpy default_rng({seed}).choice "
            f"without replacement) as 'real' vs the first {num_samples} test images as "
            "'generated', on the classifier's 128-d features"
        ),
        "command": f"python -m pipelines.train_classifier --floor --floor-seed {seed}",
        "settings": {
            "kid_subset_size": evaluator.kid_subset_size,
            "kid_num_subsets": evaluator.kid_num_subsets,
            "inception_score_splits": evaluator.inception_score_splits,
            "precision_recall_k": evaluator.precision_recall_k,
        },
        "metrics": {k: round(v, 6) if isinstance(v, float) else v for k, v in result.items()},
        "seconds": round(time.time() - start, 1),
    }
    _write_json(os.path.join(out_dir, "real_data_floor.json"), floor)
    return floor


def _write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--out-dir", default=OUT_DIR)
    parser.add_argument(
        "--floor", action="store_true", help="only measure the real-data floor (no training)"
    )
    parser.add_argument("--floor-seed", type=int, default=0, help="seed of the train sample")
    args = parser.parse_args(argv)
    if not args.floor:
        train(args.seed, args.epochs, args.batch_size, args.out_dir)
    floor = real_data_floor(seed=args.floor_seed, out_dir=args.out_dir)
    print(json.dumps(floor["metrics"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
