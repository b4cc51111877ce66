package io.msm.spring.boot;

import io.msm.tomcat.MemcachedSessionManager;

/**
 * An application bean that changes msm's manager after the starter applied the {@code msm.*} properties and before
 * the embedded Tomcat starts it (e.g. attributes computed at runtime). Customizers run in their bean order.
 */
@FunctionalInterface
public interface MsmManagerCustomizer {
    void customize(MemcachedSessionManager manager);
}
