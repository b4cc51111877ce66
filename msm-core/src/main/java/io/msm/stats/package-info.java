/** Statistics of a session manager: {@link io.msm.stats.MsmStatistics}. */
package io.msm.stats;
