"""Virtual batch normalisation (Salimans et al., 2016)."""

import keras
from keras import ops


class VirtualBatchNormalization(keras.layers.Layer):
    """Normalises each example with the statistics of a fixed reference batch plus itself.

    Batch normalisation makes an example's output depend on the other examples of its
    minibatch. VBN instead normalises each example `x` with the statistics of the
    "virtual batch" made of a reference batch of N examples, chosen once at the start of
    training, and `x` itself, weighted `1 / (N + 1)`:

        mean    = w * mean(x) + (1 - w) * mean_ref,        w = 1 / (N + 1)
        mean_sq = w * mean(x^2) + (1 - w) * mean_sq_ref
        y       = gamma * (x - mean) / sqrt(mean_sq - mean^2 + epsilon) + beta

    where `mean(x)` averages over the example's non-feature axes (height and width for a
    feature map; none for [batch, features]), `mean_ref` over the reference batch and
    those axes, per feature (as TF-GAN's `VBN`, which this matches).

    The reference batch, two ways:
    - Stored: `layer.set_reference(batch)` computes the reference statistics of `batch`
      (this layer's *input* for the reference examples) and stores them, with N, in
      non-trainable weights, so they are checkpointed and restored with the model. Exact
      for a layer whose input does not change during training (the first layer, fixed
      features); the trainer calls it once, before training, with the reference batch
      drawn at the start (for a deeper layer: pass the reference batch through the layers
      below it, e.g. with a sub-model, and refresh as often as wanted).
    - Live, as in the paper, where the reference batch is forwarded with every minibatch
      so its statistics follow the current weights: `layer(x, reference=h_ref)` takes the
      reference batch's activations at this layer, and `layer.normalize_reference(h_ref)`
      normalises them with their own statistics for the layers above. Gradients flow
      through the reference statistics.
    Before any reference is set, N = 0 and each example is normalised with its own
    statistics (instance normalisation).

    Args:
        axis: the feature axis (statistics are per feature).
        epsilon: added to the variance.
        center: whether to add the learned offset `beta`.
        scale: whether to multiply by the learned `gamma`.
        beta_initializer, gamma_initializer: their initializers.
        **kwargs: passed to `keras.layers.Layer`.

    Example:
    >>> vbn = VirtualBatchNormalization()
    >>> vbn.set_reference(np.random.normal(size=(16, 4, 4, 3)).astype("float32"))
    >>> tuple(vbn(np.zeros((2, 4, 4, 3), "float32")).shape)
    (2, 4, 4, 3)

    Reference: Salimans et al., "Improved Techniques for Training GANs", 2016, section 3.4,
        https://arxiv.org/abs/1606.03498
    """

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if epsilon <= 0:
            raise ValueError(f"`epsilon` must be > 0. Received: epsilon={epsilon}")
        self.axis = axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = keras.initializers.get(beta_initializer)
        self.gamma_initializer = keras.initializers.get(gamma_initializer)

    def build(self, input_shape):
        rank = len(input_shape)
        axis = self.axis % rank if -rank <= self.axis < rank else None
        if rank < 2 or axis in (None, 0) or input_shape[axis] is None:
            raise ValueError(
                "`axis` must name a known, non-batch axis of the input. "
                f"Received: axis={self.axis}, input_shape={input_shape}"
            )
        self._feature_axis = axis
        self._example_axes = tuple(a for a in range(1, rank) if a != axis)
        self._broadcast = [1] * rank
        self._broadcast[axis] = input_shape[axis]
        features = (input_shape[axis],)
        self.gamma = (
            self.add_weight(name="gamma", shape=features, initializer=self.gamma_initializer)
            if self.scale else None
        )
        self.beta = (
            self.add_weight(name="beta", shape=features, initializer=self.beta_initializer)
            if self.center else None
        )
        self.reference_mean = self.add_weight(
            name="reference_mean", shape=features, initializer="zeros", trainable=False
        )
        self.reference_mean_square = self.add_weight(
            name="reference_mean_square", shape=features, initializer="ones", trainable=False
        )
        self.reference_size = self.add_weight(
            name="reference_size", shape=(), initializer="zeros", trainable=False
        )

    def _reference_statistics(self, reference):
        reference = ops.cast(reference, "float32")
        axes = (0,) + self._example_axes
        mean = ops.reshape(ops.mean(reference, axis=axes), self._broadcast)
        mean_sq = ops.reshape(ops.mean(ops.square(reference), axis=axes), self._broadcast)
        return mean, mean_sq, ops.cast(ops.shape(reference)[0], "float32")

    def set_reference(self, batch):
        """Stores the statistics of `batch`, this layer's input for the reference examples."""
        batch = ops.convert_to_tensor(batch)
        if not self.built:
            self.build(batch.shape)
        mean, mean_sq, size = self._reference_statistics(batch)
        self.reference_mean.assign(ops.reshape(mean, (-1,)))
        self.reference_mean_square.assign(ops.reshape(mean_sq, (-1,)))
        self.reference_size.assign(size)

    def _normalize(self, x, mean, mean_sq):
        y = (x - mean) / ops.sqrt(ops.maximum(mean_sq - ops.square(mean), 0.0) + self.epsilon)
        if self.scale:
            y = y * ops.reshape(ops.cast(self.gamma, "float32"), self._broadcast)
        if self.center:
            y = y + ops.reshape(ops.cast(self.beta, "float32"), self._broadcast)
        return y

    def call(self, inputs, reference=None):
        x = ops.cast(inputs, "float32")
        if reference is None:
            # Cast: under a mixed policy, variables read inside `call` are autocast.
            ref_mean = ops.reshape(ops.cast(self.reference_mean, "float32"), self._broadcast)
            ref_mean_sq = ops.reshape(
                ops.cast(self.reference_mean_square, "float32"), self._broadcast
            )
            size = self.reference_size
        else:
            ref_mean, ref_mean_sq, size = self._reference_statistics(reference)
        w = 1.0 / (ops.cast(size, "float32") + 1.0)
        if self._example_axes:
            ex_mean = ops.mean(x, axis=self._example_axes, keepdims=True)
            ex_mean_sq = ops.mean(ops.square(x), axis=self._example_axes, keepdims=True)
        else:
            ex_mean, ex_mean_sq = x, ops.square(x)
        mean = w * ex_mean + (1.0 - w) * ref_mean
        mean_sq = w * ex_mean_sq + (1.0 - w) * ref_mean_sq
        return ops.cast(self._normalize(x, mean, mean_sq), inputs.dtype)

    def normalize_reference(self, reference):
        """The reference batch normalised with its own statistics only (the paper's rule
        for the reference examples), for the layers above in the live mode."""
        reference = ops.convert_to_tensor(reference)
        mean, mean_sq, _ = self._reference_statistics(reference)
        return ops.cast(self._normalize(ops.cast(reference, "float32"), mean, mean_sq),
                        reference.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": keras.initializers.serialize(self.beta_initializer),
            "gamma_initializer": keras.initializers.serialize(self.gamma_initializer),
        }
