"""A minimal hand-written DCGAN in the keras-io style: the reference of the quality table.

It follows keras.io's "DCGAN to generate face images" (examples/generative/dcgan_overriding_
train_step): a plain `keras.Model` holding a generator and a discriminator, a custom
`train_step` with one discriminator and one generator update, the non-saturating loss
(binary cross-entropy, the generator trained on "real" labels), no penalty, Adam(1e-4) for
both networks, a little noise on the discriminator's labels. Adapted to 28x28x1 images in
[-1, 1] and to CPU budgets: filters scaled by `width / 64` (see `WIDTH`); the generator
starts at 7x7 and upsamples twice (the example's third upsampling, to 64x64, is dropped)
and ends in tanh instead of sigmoid; the discriminator downsamples 28 -> 14 -> 7 -> 4.

Deliberately none of tfgans: no EMA, no XLA flags beyond Keras' default, no stateless noise.

    python -m benchmarks.reference_dcgan --steps 500   # a quick look; benchmarks/quality.py
                                                        # trains it against the default config
"""

import argparse
import time

import keras
import tensorflow as tf
from keras import layers

LATENT_DIM = 128
#: The example's filters are 64-128-128 (discriminator) and 128-256-512 (generator), i.e.
#: width 64; the quality table uses width 16, like `make demo`'s `model.width=16`: at width
#: 64 one step takes seconds on 2 CPU cores, and the reference would get only a few hundred.
WIDTH = 16


def build_discriminator(image_shape=(28, 28, 1), width=WIDTH):
    return keras.Sequential(
        [
            keras.Input(shape=image_shape),
            layers.Conv2D(width, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(2 * width, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(2 * width, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="discriminator",
    )


def build_generator(latent_dim=LATENT_DIM, channels=1, width=WIDTH):
    return keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(7 * 7 * 2 * width),
            layers.Reshape((7, 7, 2 * width)),
            layers.Conv2DTranspose(2 * width, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(4 * width, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(channels, kernel_size=5, padding="same", activation="tanh"),
        ],
        name="generator",
    )


class GAN(keras.Model):
    """The keras-io GAN: `compile(d_optimizer, g_optimizer, loss_fn)`, `fit(images)`."""

    def __init__(self, discriminator, generator, latent_dim=LATENT_DIM, seed=0):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.seed_generator = keras.random.SeedGenerator(seed)

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real_images):
        batch_size = tf.shape(real_images)[0]
        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        generated = self.generator(noise)
        combined = tf.concat([generated, real_images], axis=0)
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
        labels += 0.05 * tf.random.uniform(tf.shape(labels))  # the example's label noise
        with tf.GradientTape() as tape:
            d_loss = self.loss_fn(labels, self.discriminator(combined))
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        noise = keras.random.normal((batch_size, self.latent_dim), seed=self.seed_generator)
        misleading = tf.zeros((batch_size, 1))  # "real" (0 is real in the example)
        with tf.GradientTape() as tape:
            g_loss = self.loss_fn(misleading, self.discriminator(self.generator(noise)))
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}

    def generate(self, num_samples, seed=0, batch_size=500):
        """Images in [-1, 1], float32 NumPy [N, 28, 28, 1]."""
        noise = tf.random.stateless_normal((num_samples, self.latent_dim), seed=[seed, 0])
        return self.generator.predict(noise, batch_size=batch_size, verbose=0)


def build(seed=0, latent_dim=LATENT_DIM, width=WIDTH):
    """The compiled reference GAN, weights initialised from `seed`."""
    keras.utils.set_random_seed(seed)
    gan = GAN(build_discriminator(width=width), build_generator(latent_dim, width=width),
              latent_dim, seed=seed)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=1e-4),
        g_optimizer=keras.optimizers.Adam(learning_rate=1e-4),
        loss_fn=keras.losses.BinaryCrossentropy(),
    )
    return gan


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)
    from pipelines.data import build_dataset

    gan = build()
    dataset = build_dataset("fashion_mnist", args.batch_size, seed=0, repeat=True)
    start = time.perf_counter()
    gan.fit(dataset, steps_per_epoch=args.steps, epochs=1, verbose=2)
    print(f"{args.steps} steps in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
