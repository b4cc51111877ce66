/**
 * The serializer SPI: a {@link io.msm.spi.TranscoderFactory} named by {@code transcoderFactoryClass} builds a
 * {@link io.msm.spi.SessionAttributesTranscoder} for each webapp.
 */
package io.msm.spi;
