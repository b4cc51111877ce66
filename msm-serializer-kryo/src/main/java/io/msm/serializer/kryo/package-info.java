/**
 * The Kryo 5 serializer for session attributes: {@link io.msm.serializer.kryo.KryoTranscoderFactory}, extended by
 * {@link io.msm.serializer.kryo.KryoCustomizer}s named in {@code customConverter}.
 */
package io.msm.serializer.kryo;
