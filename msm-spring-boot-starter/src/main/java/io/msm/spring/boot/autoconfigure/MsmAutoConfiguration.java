package io.msm.spring.boot.autoconfigure;

import io.msm.spring.boot.MemcachedNodesCondition;
import io.msm.spring.boot.MsmCommonConfiguration;
import io.msm.spring.boot.MsmHealthReport;
import io.msm.spring.boot.MsmSessionManagers;
import io.msm.tomcat.MemcachedSessionManager;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

/**
 * Spring Boot 4: msm as the session manager of the embedded Tomcat when {@code msm.memcached-nodes} is set (and
 * {@code msm.enabled} is not false), its meters when Micrometer is there, and the {@code msm} health contributor
 * when the actuator is.
 */
@AutoConfiguration
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
@ConditionalOnClass({MemcachedSessionManager.class, TomcatServletWebServerFactory.class})
@Conditional(MemcachedNodesCondition.class)
@ConditionalOnBooleanProperty(name = "msm.enabled", matchIfMissing = true)
@Import(MsmCommonConfiguration.class)
public class MsmAutoConfiguration {

    @Bean
    public WebServerFactoryCustomizer<TomcatServletWebServerFactory> msmTomcatCustomizer(MsmSessionManagers managers) {
        return factory -> factory.addContextCustomizers(managers::install);
    }

    /** The {@code msm} health contributor: see {@link MsmHealthReport} for what each status means. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    @ConditionalOnEnabledHealthIndicator("msm")
    static class MsmHealthConfiguration {
        @Bean
        HealthIndicator msmHealthIndicator(MsmSessionManagers managers) {
            return new AbstractHealthIndicator("msm health check failed") {
                @Override
                protected void doHealthCheck(Health.Builder builder) {
                    MsmHealthReport r = MsmHealthReport.of(managers.managers());
                    builder.status(new Status(r.status())).withDetails(r.details());
                }
            };
        }
    }
}
