"""`CycleGAN`: the unpaired image <-> image family (Zhu et al. 2017).

Batches are `(a, b)`, float32 [B, H, W, C] in [-1, 1]: images of domain A and of domain B,
not paired. Two generators, G: A -> B (`generator_ab`) and F: B -> A (`generator_ba`), and
two discriminators, D_B on domain B (real b vs G(a)) and D_A on domain A (real a vs F(b)).
Each step, as the paper's loss list:

1. the generators take one step (each with its own optimizer, on the same loss) on
   `g_loss = adv(D_B(G(a))) + adv(D_A(F(b))) + cycle_weight * cycle
   + identity_weight * cycle_weight * identity`, where
   `cycle = mean|F(G(a)) - a| + mean|G(F(b)) - b|` (lambda = 10) and
   `identity = mean|F(a) - a| + mean|G(b) - b|` (0.5 lambda);
2. the step's G(a) and F(b) go through a history pool of the last `pool_size` generated
   images per discriminator (`tfgans.training.image_pool`; draws keyed on (seed, step),
   the pools checkpointed), and each discriminator takes one step on
   `loss.discriminator_loss(D(real), D(pooled fake))`.

The adversarial pair is least squares by default (the paper's), any registered
`tfgans.losses` pair by name. With `tfgans.losses`' least-squares constants (TF-GAN's),
D's loss is the paper's halved objective `0.5 (D(x) - 1)^2 + 0.5 D(G(z))^2`, and G's
term is `0.5 (D(G(z)) - 1)^2`, half the paper's.

The learning rate of every optimizer stays constant for the first `decay_start` steps and
decays linearly to 0 at `total_steps` (`LinearDecay`, a schedule on the optimizer's step,
so a resumed run follows the same curve); `total_steps=None`: constant.

Sample grids show rows of a | G(a) | F(G(a)) | b | F(b) | G(F(b)) for a fixed preview: the
first examples of the first training batch, kept in trainer state.

Reference: [Zhu et al., 2017](https://arxiv.org/abs/1703.10593).
"""

import keras
import numpy as np
import tensorflow as tf

from tfgans import losses as losses_lib
from tfgans.settings import Key, Setting
from tfgans.training import noise as noise_lib
from tfgans.training.gan import adversarial_loss
from tfgans.training.image_pool import query_pool
from tfgans.training.trainer import (
    ExportSpec,
    Trainer,
    check_image_pair_spec,
    first_batch,
    predict_in_batches,
)

#: The stream of the history pools' draws in `noise_key(step, stream, side, draw)`.
_POOL = 11
#: Examples of each domain kept for the sample grid.
PREVIEW_SIZE = 8
#: `sample`'s directions.
DIRECTIONS = ("a_to_b", "b_to_a")


@keras.saving.register_keras_serializable(package="tfgans")
class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Constant, then linear to 0: `lr(step) = initial * (1 - max(0, step - decay_start) /
    (total_steps - decay_start))` (CycleGAN's schedule: 100 epochs constant, 100 decaying).

    Example:
    >>> schedule = LinearDecay(2e-4, decay_start=100, total_steps=200)
    >>> float(schedule(150))
    0.0001
    """

    def __init__(self, initial_learning_rate, decay_start, total_steps):
        if not 0 <= decay_start < total_steps:
            raise ValueError(
                "`decay_start` (config key optimizer.decay_start) must be in [0, total_steps) "
                f"(train.steps). Received: decay_start={decay_start}, total_steps={total_steps}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_start = int(decay_start)
        self.total_steps = int(total_steps)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        done = tf.maximum(step - self.decay_start, 0.0) / float(self.total_steps - self.decay_start)
        return self.initial_learning_rate * tf.maximum(1.0 - done, 0.0)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_start": self.decay_start, "total_steps": self.total_steps}


def with_linear_decay(optimizer, total_steps, decay_start):
    """A copy of `optimizer` (a Keras optimizer or its name) whose learning rate follows
    `LinearDecay` from its current value."""
    optimizer = keras.optimizers.get(optimizer)
    config = optimizer.get_config()
    rate = config["learning_rate"]
    if not isinstance(rate, (int, float)):
        raise ValueError(
            "CycleGAN's linear decay needs optimizers with a constant learning rate (it makes "
            f"the schedule). Received: learning_rate={rate!r}")
    config["learning_rate"] = LinearDecay(rate, decay_start, total_steps)
    return type(optimizer).from_config(config)


class CycleGAN(Trainer):
    """Unpaired image <-> image translation with cycle consistency (CycleGAN).

    Args:
        generator_ab, generator_ba: keras.Models, images [B, H, W, C] in [-1, 1] -> images
            of the other domain in [-1, 1] (G: A -> B and F: B -> A).
        discriminator_a, discriminator_b: keras.Models, images -> logits (a PatchGAN's
            [B, h, w, 1], or [B, 1]); D_A judges domain A, D_B domain B.
        image_shape: (H, W, C) of both domains; None: the generator's `image_shape`.
        pool_size: generated images kept per discriminator (the paper's 50); 0: none.
        seed: the seed of the pools' draws.

    Example:
    ```python
    networks = tfgans.models.get("cyclegan")((28, 28, 1), width=8, residual_blocks=2)
    trainer = CycleGAN(**networks)
    trainer.compile(total_steps=1000)    # Adam(2e-4, 0.5), least squares, lambda 10, decay
    trainer.fit(dataset_of_a_b_batches, epochs=1)
    ```
    """

    family = "unpaired_image_to_image"
    TRAINED = ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b")
    SETTINGS = (
        Setting("loss.name", "loss", Key(
            "least_squares", "str", doc="adversarial loss pair (tfgans.losses): the paper's "
            "least_squares, or non_saturating, hinge, ...")),
        Setting("loss.cycle_weight", "cycle_weight", Key(
            10.0, "float", low=0.0, doc="lambda, the weight of the cycle-consistency L1")),
        Setting("loss.identity_weight", "identity_weight", Key(
            0.5, "float", low=0.0, doc="the identity L1's weight, times lambda (the paper's "
            "0.5); 0: no identity loss")),
        Setting("train.pool_size", "pool_size", Key(
            50, "int", low=0, doc="generated images each discriminator's history pool keeps; "
            "0: no pool")),
        Setting("train.steps", "total_steps", Key(20_000, "int", low=1, doc="training steps "
                "(the learning rates reach 0 there)")),
        Setting("optimizer.decay_start", "decay_start", Key(
            None, "int", low=0, nullable=True, doc="the step from which the learning rates "
            "decay linearly to 0 at train.steps; null: half of train.steps")),
        Setting("train.seed", "seed", Key(0, "int", low=0, doc="seed of weights and pools")),
    )

    def __init__(self, generator_ab, generator_ba, discriminator_a, discriminator_b,
                 image_shape=None, pool_size=50, seed=0, **kwargs):
        networks = {"generator_ab": generator_ab, "generator_ba": generator_ba,
                    "discriminator_a": discriminator_a, "discriminator_b": discriminator_b}
        super().__init__(networks, trained=self.TRAINED, seed=seed, **kwargs)
        if image_shape is None:
            image_shape = getattr(generator_ab, "image_shape", None)
        if image_shape is None:
            raise ValueError("CycleGAN needs `image_shape` (H, W, C): the generator has none.")
        self.image_shape = tuple(int(s) for s in image_shape)
        if isinstance(pool_size, bool) or int(pool_size) != pool_size or pool_size < 0:
            raise ValueError(f"`pool_size` must be an integer >= 0. Received: {pool_size!r}")
        self.pool_size = int(pool_size)
        images = tf.zeros([1, *self.image_shape])
        for name in self.TRAINED:
            getattr(self, name)(images)
        # The pools (`only_first_replica`: every replica computes the same new pool from
        # the gathered global batch) and the preview of the sample grid: trainer state.
        self.pools, self.pool_counts = [], []
        for side in "ab":
            self.pools.append(self.add_weight(
                shape=(max(self.pool_size, 1), *self.image_shape), initializer="zeros",
                trainable=False, aggregation="only_first_replica", name=f"pool_{side}"))
            self.pool_counts.append(self.add_weight(
                shape=(), initializer="zeros", dtype="int32", trainable=False,
                aggregation="only_first_replica", name=f"pool_{side}_count"))
        self.preview_images = self.add_weight(
            shape=(2, PREVIEW_SIZE, *self.image_shape), initializer="zeros", trainable=False,
            name="preview_images")
        self.preview_count = self.add_weight(
            shape=(), initializer="zeros", dtype="int32", trainable=False, name="preview_count")
        self.add_trackers(["d_loss", "g_loss", "g_adversarial", "cycle", "identity",
                           "d_real", "d_fake", "nonfinite"])
        self.loss_pair = losses_lib.get("least_squares")
        self.cycle_weight, self.identity_weight = 10.0, 0.5
        self.total_steps = self.decay_start = None
        self.built = True

    @staticmethod
    def resolve_settings(total_steps=None, decay_start=None, **settings):
        """decay_start null: half of total_steps."""
        if decay_start is None and total_steps is not None:
            decay_start = total_steps // 2
        return {**settings, "total_steps": total_steps, "decay_start": decay_start}

    def compile(self, generator_ab_optimizer=None, generator_ba_optimizer=None,
                discriminator_a_optimizer=None, discriminator_b_optimizer=None,
                loss="least_squares", cycle_weight=10.0, identity_weight=0.5,
                total_steps=None, decay_start=None, **kwargs):
        """Builds the optimizers (default: the paper's Adam(2e-4, beta_1 0.5)).

        Args:
            loss: the adversarial pair, a `tfgans.losses` name or `GANLoss`.
            cycle_weight: lambda (the paper's 10).
            identity_weight: the identity loss' weight as a multiple of lambda (0.5).
            total_steps: None: constant learning rates; else they decay linearly from
                `decay_start` (None: total_steps // 2) to 0 at `total_steps`.
            **kwargs: `Trainer.compile`'s (jit_compile, steps_per_execution, ...).
        """
        for name, value in (("cycle_weight", cycle_weight), ("identity_weight", identity_weight)):
            if isinstance(value, bool) or not float(value) >= 0:
                raise ValueError(f"`{name}` must be a number >= 0. Received: {name}={value!r}")
        optimizers = dict(zip(self.TRAINED, (generator_ab_optimizer, generator_ba_optimizer,
                                             discriminator_a_optimizer, discriminator_b_optimizer)))
        if total_steps is not None:
            decay_start = self.resolve_settings(total_steps, decay_start)["decay_start"]
            LinearDecay(0.0, decay_start, total_steps)  # checks the two
            optimizers = {
                name: with_linear_decay(opt if opt is not None else self.default_optimizer(name),
                                        total_steps, decay_start)
                for name, opt in optimizers.items()}
        super().compile(optimizers, **kwargs)
        self.loss_pair = losses_lib.get(loss)
        self.cycle_weight, self.identity_weight = float(cycle_weight), float(identity_weight)
        self.total_steps, self.decay_start = total_steps, decay_start

    def default_optimizer(self, network):
        """The paper's optimizer: Adam(2e-4, beta_1 0.5, beta_2 0.999)."""
        return keras.optimizers.Adam(2e-4, beta_1=0.5, beta_2=0.999)

    # ----------------------------------------------------------------- the step

    @staticmethod
    def l1(x, y):
        """Mean absolute difference (over pixels and the per-replica batch), float32."""
        return tf.reduce_mean(tf.abs(tf.cast(x, tf.float32) - tf.cast(y, tf.float32)))

    def generator_losses(self, a, b, training=True):
        """({"g_loss", "g_adversarial", "cycle", "identity"}, (G(a), F(b)), the loss to
        differentiate) for a batch: the last is g_loss in value; for a loss of the batch
        means (relativistic) its gradient goes through the global batch's means."""
        g, f = self.generator_ab, self.generator_ba
        fake_b, fake_a = g(a, training=training), f(b, training=training)
        adversarial = total = 0.0
        for discriminator, real, fake in ((self.discriminator_b, b, fake_b),
                                          (self.discriminator_a, a, fake_a)):
            # The real images' logits only for a loss of the batch means (relativistic).
            real_logits = (tf.stop_gradient(discriminator(real, training=training))
                           if self.loss_pair.uses_batch_mean else None)
            value, surrogate = adversarial_loss(
                self.loss_pair, real_logits, discriminator(fake, training=training), True)
            adversarial, total = adversarial + value, total + surrogate
        cycle = self.l1(f(fake_b, training=training), a) + self.l1(g(fake_a, training=training), b)
        identity = tf.constant(0.0)
        if self.identity_weight:
            identity = self.l1(f(a, training=training), a) + self.l1(g(b, training=training), b)
        rest = self.cycle_weight * cycle + self.identity_weight * self.cycle_weight * identity
        return {"g_loss": adversarial + rest, "g_adversarial": adversarial, "cycle": cycle,
                "identity": identity}, (fake_b, fake_a), total + rest

    def from_pool(self, side, fakes, step):
        """This replica's images for the discriminator of `side` (0: A, 1: B) from its
        history pool: the global batch of fakes goes through the pool in order, with draws
        from (seed, step, side), so 1 and N replicas see the same images."""
        if not self.pool_size:
            return fakes
        local = fakes.shape[0] or tf.shape(fakes)[0]
        context = tf.distribute.get_replica_context()
        everything = fakes
        if context is not None and context.num_replicas_in_sync > 1:
            everything = context.all_gather(fakes, axis=0)
        # Under `fit` with several replicas the per-replica batch is not static.
        batch = everything.shape[0] or tf.shape(everything)[0]
        coins = noise_lib.uniform([batch], self.noise_key(step, _POOL, side, 0))
        slots = noise_lib.uniform([batch], self.noise_key(step, _POOL, side, 1))
        slots = tf.minimum(tf.cast(slots * self.pool_size, tf.int32), self.pool_size - 1)
        shown, pool, count = query_pool(self.pools[side].value, self.pool_counts[side].value,
                                        everything, coins, slots)
        self.pools[side].assign(pool)
        self.pool_counts[side].assign(count)
        return noise_lib.replica_slice(tf.cast(shown, fakes.dtype), local)

    def train_step(self, data):
        a, b = (tf.cast(x, tf.float32) for x in data[:2])
        step = self.step
        with tf.GradientTape(persistent=True) as tape:
            logs, (fake_b, fake_a), g_total = self.generator_losses(a, b)
            scaled = {name: self.scale_loss(g_total, name)
                      for name in ("generator_ab", "generator_ba")}
        finite = tf.math.is_finite(logs["g_loss"])
        for name, loss in scaled.items():
            finite = self.apply_gradients(name, loss, tape, finite)
        del tape
        d_loss, d_real, d_fake = 0.0, 0.0, 0.0
        for side, (real, fake) in enumerate(((a, fake_a), (b, fake_b))):
            name = f"discriminator_{'ab'[side]}"
            fake = self.from_pool(side, tf.stop_gradient(fake), step)
            discriminator = getattr(self, name)
            with tf.GradientTape() as tape:
                real_logits = discriminator(real, training=True)
                fake_logits = discriminator(fake, training=True)
                loss, d_total = adversarial_loss(self.loss_pair, real_logits, fake_logits, False)
                scaled = self.scale_loss(d_total, name)
            finite = tf.logical_and(
                finite, self.apply_gradients(name, scaled, tape, tf.math.is_finite(loss)))
            d_loss += loss
            d_real += 0.5 * tf.reduce_mean(tf.cast(real_logits, tf.float32))
            d_fake += 0.5 * tf.reduce_mean(tf.cast(fake_logits, tf.float32))
        return self.track({**logs, "d_loss": d_loss, "d_real": d_real, "d_fake": d_fake,
                           "nonfinite": 1.0 - tf.cast(finite, tf.float32)})

    def test_step(self, data):
        a, b = (tf.cast(x, tf.float32) for x in data[:2])
        logs, _, _ = self.generator_losses(a, b, training=False)
        logs = self.track({"cycle": logs["cycle"], "identity": logs["identity"]})
        return {"cycle": logs["cycle"], "identity": logs["identity"]}

    # ---------------------------------------------------------- the rest of the contract

    def _batch_error(self, received):
        shape = "x".join(map(str, self.image_shape))
        return ValueError(
            f"cyclegan trains on unpaired (a, b) batches of {shape} images (float32 [batch, "
            f"{', '.join(map(str, self.image_shape))}] each, in [-1, 1]): use an unpaired "
            f"dataset (data.name sneaker2boot or unpaired_folder). Received: {received}")

    def check_batch(self, element_spec):
        return check_image_pair_spec(element_spec, (self.image_shape, self.image_shape),
                                     self.distribute_strategy.num_replicas_in_sync,
                                     self._batch_error)

    def check_data(self, data, batch_size=None):
        """Checks the first batch ((a, b), of this shape) and keeps its first examples as
        the sample grid's preview, unless a preview is already kept (a resumed run)."""
        batch = first_batch(data, batch_size)
        if batch is None:
            return
        if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
            raise self._batch_error(f"a batch of {type(batch).__name__}")
        images = [np.asarray(x, np.float32) for x in batch]
        if any(x.ndim != 4 or tuple(x.shape[1:]) != self.image_shape for x in images):
            raise self._batch_error(f"a batch of shapes {[x.shape for x in images]}")
        if int(self.preview_count.numpy()) == 0:
            count = min(len(images[0]), len(images[1]), PREVIEW_SIZE)
            kept = np.zeros(self.preview_images.shape, np.float32)
            kept[:, :count] = [x[:count] for x in images]
            self.preview_images.assign(kept)
            self.preview_count.assign(count)

    def state_variables(self):
        return {"pools": [*self.pools, *self.pool_counts],
                "preview": [self.preview_images, self.preview_count]}

    def sample(self, images, direction="a_to_b", batch_size=256):
        """Translates images in [-1, 1] [N, H, W, C] with G ("a_to_b") or F ("b_to_a");
        returns float32 NumPy in [-1, 1]."""
        if direction not in DIRECTIONS:
            raise ValueError(f"`direction` must be one of {', '.join(DIRECTIONS)}. "
                             f"Received: direction={direction!r}")
        images = np.asarray(images, np.float32)
        if images.ndim != 4 or tuple(images.shape[1:]) != self.image_shape:
            raise ValueError(
                "sample() takes images of shape "
                f"[N, {', '.join(map(str, self.image_shape))}]. Received: {images.shape}")
        generator = self.generator_ab if direction == "a_to_b" else self.generator_ba
        return predict_in_batches(lambda x: generator(x, training=False), (images,),
                                  batch_size, self.image_shape)

    def preview(self):
        """(a, b) of the preview kept by `check_data` (empty before)."""
        count = int(self.preview_count.numpy())
        kept = self.preview_images.numpy()
        return kept[0, :count], kept[1, :count]

    def sample_grid(self, num_images, seed=0):
        """Rows of a | G(a) | F(G(a)) | b | F(b) | G(F(b)) for up to num_images / 6 preview
        examples (6 columns); before any preview is kept, a and b are uniform noise."""
        a, b = self.preview()
        rows = max(1, min(num_images // 6, PREVIEW_SIZE))
        if not len(a):
            a, b = np.random.default_rng(seed).uniform(
                -1, 1, (2, rows, *self.image_shape)).astype(np.float32)
        a, b = a[:rows], b[:rows]
        fake_b, fake_a = self.sample(a), self.sample(b, "b_to_a")
        columns = [a, fake_b, self.sample(fake_b, "b_to_a"), b, fake_a, self.sample(fake_a)]
        return np.stack(columns, axis=1).reshape(-1, *self.image_shape), 6

    def evaluation_samples(self, num_samples, seed=0):
        raise ValueError(
            "A CycleGAN run is evaluated on held-out (a, b) images, not on samples from "
            "noise: use tfgans.metrics.evaluate_cycle (Estimator.evaluate does).")

    def export_spec(self):
        return ExportSpec("image_to_image", self.generator_ab,
                          {"image_shape": self.image_shape, "reverse_model": self.generator_ba})

    def settings(self):
        return {**super().settings(), "image_shape": list(self.image_shape),
                "loss": self.loss_pair.name, "cycle_weight": self.cycle_weight,
                "identity_weight": self.identity_weight, "pool_size": self.pool_size,
                "total_steps": self.total_steps, "decay_start": self.decay_start}
