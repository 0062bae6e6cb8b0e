"""The serving signatures of an InfoGAN generator (`ExportSpec` kind "infogan"), built by
`tfgans.export.export_trainer` like every family's.

- `serving_default`: `noise` float32 [None, latent_dim] and `codes` float32
  [None, categorical_codes + continuous_codes] (per row the categorical codes' ids, then
  the continuous values) -> `images` float32 [None, H, W, C] in [0, 1].
- `generate`: `num_samples` int32 scalar and `seed` int64 scalar -> `images` and
  `png_bytes`: noise and codes drawn from the seed, equal to
  `InfoGAN.generate(num_samples, seed)` (mapped to [0, 1]).
- `generate_codes`: `codes` [N, num_codes] and `seed` -> `images`, `png_bytes`: the given
  codes with noise drawn from the seed, equal to `InfoGAN.generate(N, seed, codes=codes)`.
- `generate_truncated`: `num_samples`, `seed`, `truncation` float32 scalar > 0 -> as
  `generate`, with noise truncated to [-truncation, truncation].

Every input is required (TF Serving has no optional inputs). Bad codes (a categorical id
that is not an integer in [0, categories), a non-finite value) fail the request with a
message naming the rule. Only TensorFlow ops: a process with nothing but TensorFlow
imported loads and calls it.
"""

import keras
import tensorflow as tf

from tfgans.training.gan import sample_noise
from tfgans.training.infogan import code_vector, sample_codes


def infogan_archive(generator, latent_dim, categorical_codes, categories, continuous_codes,
                    max_num_samples):
    """Returns (`keras.export.ExportArchive` with the signatures above, warm-up inputs)."""
    num_codes = categorical_codes + continuous_codes

    def check_codes(codes):
        ids = codes[:, :categorical_codes]
        rule = (f"`codes` must hold {categorical_codes} categorical id(s), integers in "
                f"[0, {categories - 1}], then {continuous_codes} finite continuous value(s)")
        return [
            tf.debugging.assert_all_finite(codes, rule),
            tf.debugging.assert_equal(ids, tf.round(ids), message=rule),
            tf.debugging.assert_non_negative(ids, message=rule),
            tf.debugging.assert_less_equal(ids, float(categories - 1), message=rule),
        ]

    def images_from(noise, codes):
        noise = tf.debugging.assert_all_finite(
            noise, "`noise` must be finite (no NaN or Inf): the images would be NaN")
        with tf.control_dependencies(check_codes(codes)):
            vector = code_vector(codes, categorical_codes, categories)
        images = tf.cast(generator([noise, vector], training=False), tf.float32)
        return tf.clip_by_value((images + 1.0) * 0.5, 0.0, 1.0)

    def with_png(images):
        pixels = tf.cast(tf.round(images * 255.0), tf.uint8)
        png = tf.map_fn(tf.io.encode_png, pixels, fn_output_signature=tf.TensorSpec([], tf.string))
        return {"images": images, "png_bytes": png}

    def bounded(num_samples):
        return [
            tf.debugging.assert_non_negative(num_samples, message="`num_samples` must be >= 0"),
            tf.debugging.assert_less_equal(
                num_samples, tf.constant(max_num_samples, tf.int32),
                message=f"`num_samples` must be <= max_num_samples={max_num_samples}"),
        ]

    def drawn(num_samples, seed, truncation=None):
        checks = bounded(num_samples)
        if truncation is not None:
            checks.append(tf.debugging.assert_positive(
                truncation, message="`truncation` must be > 0"))
        with tf.control_dependencies(checks):
            noise = sample_noise(num_samples, latent_dim, seed, truncation)
            codes = sample_codes(num_samples, seed, categorical_codes, categories,
                                 continuous_codes)
        return with_png(images_from(noise, codes))

    def serve(noise, codes):
        return {"images": images_from(noise, codes)}

    def generate(num_samples, seed):
        return drawn(num_samples, seed)

    def generate_truncated(num_samples, seed, truncation):
        return drawn(num_samples, seed, truncation)

    def generate_codes(codes, seed):
        with tf.control_dependencies(bounded(tf.shape(codes)[0])):
            noise = sample_noise(tf.shape(codes)[0], latent_dim, seed)
        return with_png(images_from(noise, codes))

    noise_spec = tf.TensorSpec([None, latent_dim], tf.float32, name="noise")
    codes_spec = tf.TensorSpec([None, num_codes], tf.float32, name="codes")
    num_spec = tf.TensorSpec([], tf.int32, name="num_samples")
    seed_spec = tf.TensorSpec([], tf.int64, name="seed")
    truncation_spec = tf.TensorSpec([], tf.float32, name="truncation")
    archive = keras.export.ExportArchive()
    archive.track(generator)
    archive.add_endpoint("serving_default", serve, [noise_spec, codes_spec])
    archive.add_endpoint("generate", generate, [num_spec, seed_spec])
    archive.add_endpoint("generate_codes", generate_codes, [codes_spec, seed_spec])
    archive.add_endpoint("generate_truncated", generate_truncated,
                         [num_spec, seed_spec, truncation_spec])
    seed = tf.constant(0, tf.int64)
    one = tf.constant(1, tf.int32)
    codes = tf.zeros([1, num_codes], tf.float32)
    examples = {
        "serving_default": {"noise": tf.zeros([1, latent_dim], tf.float32), "codes": codes},
        "generate": {"num_samples": one, "seed": seed},
        "generate_codes": {"codes": codes, "seed": seed},
        "generate_truncated": {"num_samples": one, "seed": seed,
                               "truncation": tf.constant(0.5, tf.float32)},
    }
    return archive, examples
