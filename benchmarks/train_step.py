"""Framework overhead of `tfgans.GAN.fit` against a minimal hand-written train_step.

Both train the default DCGAN (28x28x1, width 64, latent 128) on random data, batch 128,
one D and one G update per step, non-saturating loss, Adam. The reference is the keras-io
"DCGAN overriding train_step" pattern, with the same networks. Rounds of the two are
interleaved in one process so that machine load hits both alike; the first round of each
(tracing, XLA compilation) is not timed. Prints images/s and the ratio tfgans / reference.

    python benchmarks/train_step.py [--rounds 5] [--steps 20] [--width 64]
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tfgans  # noqa: E402
from tfgans.models import DCGANDiscriminator, DCGANGenerator  # noqa: E402


class ReferenceGAN(keras.Model):
    """The keras-io DCGAN train_step, with what it needs to be a fair baseline."""

    def __init__(self, generator, discriminator, latent_dim):
        super().__init__()
        self.generator, self.discriminator, self.latent_dim = generator, discriminator, latent_dim
        self.seed_generator = keras.random.SeedGenerator(1337)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        super().compile(optimizer=None, **kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    def train_step(self, real_images):
        batch = tf.shape(real_images)[0]
        noise = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        fake = self.generator(noise, training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real_images, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = self.bce(tf.ones_like(real_logits), real_logits) + self.bce(
                tf.zeros_like(fake_logits), fake_logits
            )
        grads = tape.gradient(d_loss, self.discriminator.trainable_variables)
        self.d_optimizer.apply(grads, self.discriminator.trainable_variables)
        noise = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            fake_logits = self.discriminator(self.generator(noise, training=True), training=True)
            g_loss = self.bce(tf.ones_like(fake_logits), fake_logits)
        grads = tape.gradient(g_loss, self.generator.trainable_variables)
        self.g_optimizer.apply(grads, self.generator.trainable_variables)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}


def networks(width, latent_dim):
    keras.utils.set_random_seed(0)
    return (
        DCGANGenerator((28, 28, 1), latent_dim=latent_dim, width=width),
        DCGANDiscriminator((28, 28, 1), width=width),
    )


def make_models(width, latent_dim, jit):
    adam = lambda: keras.optimizers.Adam(2e-4, beta_1=0.5)  # noqa: E731
    g, d = networks(width, latent_dim)
    ours = tfgans.GAN(g, d, latent_dim=latent_dim)
    ours.compile(adam(), adam(), loss="non_saturating", jit_compile=jit)
    g, d = networks(width, latent_dim)
    d(g(tf.zeros([1, latent_dim])))  # build before the optimizers
    ref = ReferenceGAN(g, d, latent_dim)
    ref.compile(adam(), adam(), jit_compile=jit)
    return {"tfgans.GAN": ours, "reference": ref}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per model")
    parser.add_argument("--steps", type=int, default=20, help="train steps per round")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=128)
    args = parser.parse_args()

    data = np.random.RandomState(0).uniform(-1, 1, (args.batch * 4, 28, 28, 1)).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices(data).repeat().batch(args.batch, drop_remainder=True).prefetch(4)
    rows = []
    for jit in (False, True):
        models = make_models(args.width, args.latent_dim, jit)
        times = {name: [] for name in models}
        for r in range(args.rounds + 1):
            for name, model in models.items():
                start = time.perf_counter()
                model.fit(ds, steps_per_epoch=args.steps, epochs=1, verbose=0)
                if r > 0:  # round 0 traces and compiles
                    times[name].append(time.perf_counter() - start)
        ips = {n: args.steps * args.batch / np.median(t) for n, t in times.items()}
        rows.append((jit, ips["tfgans.GAN"], ips["reference"], ips["tfgans.GAN"] / ips["reference"]))

    print(f"\nDCGAN 28x28x1 width {args.width}, batch {args.batch}, 1 D + 1 G update per step, "
          f"non-saturating; median of {args.rounds} interleaved rounds of {args.steps} steps")
    print(f"{'jit_compile':<12} {'tfgans.GAN img/s':>17} {'reference img/s':>16} {'ratio':>7}")
    for jit, ours, ref, ratio in rows:
        print(f"{str(jit):<12} {ours:>17.1f} {ref:>16.1f} {ratio:>7.3f}")


if __name__ == "__main__":
    main()
