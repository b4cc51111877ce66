/** The validated configuration of an msm session manager: {@link io.msm.config.MsmConfig}. */
package io.msm.config;
