"""The unrolled GAN's differentiable discriminator steps (Metz et al. 2017).

The generator's loss is taken on the discriminator *after* k more updates of its weights on
the current batch, and differentiated through those updates, so the generator sees how the
discriminator would react to it (the paper's eq. 6-8: f_K(theta_G, theta_D) with
theta_D^{k+1} = theta_D^k + eta^k d f(theta_G, theta_D^k) / d theta_D^k). The real
discriminator update is unaffected: the unrolled weights are tensors, copies of the
variables, used only inside the generator's loss.

The unrolled steps repeat the discriminator optimizer's own update, written functionally
(tensors in, tensors out, so the outer tape differentiates through them):
- Adam (the paper's optimizer): from the optimizer's current moments and step count, with
  its learning rate, betas and epsilon, as in `keras.optimizers.Adam.update_step`;
- SGD (with or without momentum, not Nesterov), as in `keras.optimizers.SGD.update_step`.
Like the authors' code, every unrolled step uses the step's batch: the same real images and
the same generated ones (the generator's noise of the step).

Where it runs: on one device, with or without XLA (the steps are plain TensorFlow ops and
nested gradient tapes). With several replicas it refuses with one error at `compile`: the
unrolled gradients would have to be summed across replicas inside the step, which this
implementation does not do.

Reference: https://arxiv.org/abs/1611.02163
"""

import keras
import tensorflow as tf

#: The optimizers whose update the unrolled steps repeat.
UNROLLED_OPTIMIZERS = (keras.optimizers.Adam, keras.optimizers.SGD)


def check_unrolled_settings(unrolled_steps, gradient_penalty, weight_clip):
    """Validates `unrolled_steps` with the penalty settings (the config layer and
    `GAN.compile` both call it through `resolve_settings`)."""
    if isinstance(unrolled_steps, bool) or int(unrolled_steps) != unrolled_steps or (
            unrolled_steps < 0):
        raise ValueError(
            "`unrolled_steps` must be an integer >= 0 (0: no unrolling). "
            f"Received: unrolled_steps={unrolled_steps!r}")
    if unrolled_steps and (gradient_penalty or weight_clip):
        raise ValueError(
            "The unrolled GAN (loss.unrolled_steps > 0) unrolls the adversarial loss only: "
            "set loss.gradient_penalty to 0 and loss.weight_clip to 0 (the wasserstein loss "
            "brings a penalty of 10 by default), or set loss.unrolled_steps to 0. Received: "
            f"unrolled_steps={unrolled_steps}, gradient_penalty={gradient_penalty}, "
            f"weight_clip={weight_clip}")


def _optimizer(trainer):
    optimizer = trainer.optimizers["discriminator"]
    return getattr(optimizer, "inner_optimizer", optimizer)


def check_unrolled_trainer(trainer):
    """Raises ValueError (one line) for what the unrolled steps cannot repeat: several
    replicas, mixed_float16, an AC-GAN head, a loss of the batch means, or a discriminator
    optimizer other than plain Adam / SGD."""
    k = trainer.unrolled_steps
    if trainer.distribute_strategy.num_replicas_in_sync > 1:
        raise ValueError(
            f"The unrolled GAN (unrolled_steps={k}) runs on one device: its unrolled "
            "discriminator gradients are not summed across replicas. Use distribute.strategy "
            "default (one device), or unrolled_steps 0.")
    if keras.config.dtype_policy().name == "mixed_float16":
        raise ValueError(
            f"The unrolled GAN (unrolled_steps={k}) does not support mixed_float16 (the "
            "unrolled steps would need their own loss scaling): use float32 or "
            "mixed_bfloat16 (train.mixed_precision).")
    if trainer.auxiliary_classifier or trainer.gan_loss.uses_batch_mean:
        raise ValueError(
            f"The unrolled GAN (unrolled_steps={k}) unrolls a per-example adversarial loss: "
            "not an AC-GAN discriminator, nor a loss of the batch means "
            f"({trainer.gan_loss.name}). Use e.g. minimax or non_saturating.")
    optimizer = _optimizer(trainer)
    problem = None
    if not isinstance(optimizer, UNROLLED_OPTIMIZERS):
        problem = f"is {type(optimizer).__name__}"
    elif getattr(optimizer, "amsgrad", False) or getattr(optimizer, "nesterov", False):
        problem = "uses amsgrad or nesterov"
    elif (optimizer.weight_decay or optimizer.clipnorm or optimizer.clipvalue
          or optimizer.global_clipnorm or optimizer.use_ema
          or optimizer.gradient_accumulation_steps):
        problem = "uses weight decay, gradient clipping, EMA or gradient accumulation"
    if problem:
        raise ValueError(
            f"The unrolled GAN (unrolled_steps={k}) repeats the discriminator optimizer's "
            f"update, and it {problem}: use a plain adam (the paper's) or sgd "
            "discriminator optimizer (optimizer.discriminator).")


def _sqrt(x):
    """sqrt(x) whose gradient at x = 0 is 0, not infinite: Adam's second moment is 0 for a
    weight that never had a gradient (a dead unit), and there inf * 0 would make the
    generator's gradient NaN; the true derivative through such a weight is 0."""
    positive = x > 0
    return tf.where(positive, tf.sqrt(tf.where(positive, x, tf.ones_like(x))), tf.zeros_like(x))


def logits_with(trainer, weights, images, labels):
    """The discriminator's logits of `images` with its trainable weights replaced by the
    tensors `weights` (`keras.Model.stateless_call`; the variables are not changed)."""
    discriminator = trainer.discriminator
    outputs, _ = discriminator.stateless_call(
        weights, [tf.convert_to_tensor(v) for v in discriminator.non_trainable_variables],
        trainer._d_inputs(images, labels), training=True)
    return tf.cast(outputs, tf.float32)


def _loss(trainer, weights, real, fake, labels):
    real_logits = logits_with(trainer, weights, real, labels)
    fake_logits = logits_with(trainer, weights, fake, labels)
    return trainer._adversarial_loss(real_logits, fake_logits, generator=False)[1]


def unrolled_weights(trainer, real, fake, labels, steps):
    """The discriminator's trainable weights after `steps` functional updates of its
    optimizer on (`real`, `fake`), as tensors differentiable w.r.t. `fake` (and so w.r.t.
    the generator when `fake` is computed under its tape).

    Args:
        trainer: a compiled `tfgans.GAN`.
        real, fake: the step's real and generated images (the same for every step).
        labels: the step's labels, or None.
        steps: how many updates (0: the current weights).

    Returns:
        A list of tensors, in the order of `discriminator.trainable_variables`.
    """
    optimizer = _optimizer(trainer)
    variables = trainer.discriminator.trainable_variables
    weights = [tf.convert_to_tensor(v) for v in variables]
    if not steps:
        return weights
    lr = tf.cast(optimizer.learning_rate, tf.float32)
    index = [optimizer._get_variable_index(v) for v in variables]
    adam = isinstance(optimizer, keras.optimizers.Adam)
    if adam:
        m = [tf.convert_to_tensor(optimizer._momentums[i]) for i in index]
        v = [tf.convert_to_tensor(optimizer._velocities[i]) for i in index]
        b1, b2 = float(optimizer.beta_1), float(optimizer.beta_2)
        eps = float(optimizer.epsilon)
        iterations = tf.cast(optimizer.iterations, tf.float32)
    elif optimizer.momentum:
        m = [tf.convert_to_tensor(optimizer.momentums[i]) for i in index]
    for step in range(steps):
        with tf.GradientTape() as tape:
            tape.watch(weights)
            loss = _loss(trainer, weights, real, fake, labels)
        grads = tape.gradient(loss, weights)
        grads = [tf.zeros_like(w) if g is None else g for w, g in zip(weights, grads)]
        if adam:
            t = iterations + float(step + 1)
            alpha = lr * tf.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
            m = [mi + (g - mi) * (1.0 - b1) for mi, g in zip(m, grads)]
            v = [vi + (tf.square(g) - vi) * (1.0 - b2) for vi, g in zip(v, grads)]
            weights = [w - alpha * mi / (_sqrt(vi) + eps)
                       for w, mi, vi in zip(weights, m, v)]
        elif optimizer.momentum:
            m = [mi * float(optimizer.momentum) - g * lr for mi, g in zip(m, grads)]
            weights = [w + mi for w, mi in zip(weights, m)]
        else:
            weights = [w - lr * g for w, g in zip(weights, grads)]
    return weights
