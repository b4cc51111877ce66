package io.msm.spring.boot;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.core.io.ResourceLoader;

/**
 * What msm's starters for Spring Boot 3.5 and 4 share: the properties, the managers (validated when this bean is
 * made, so a bad property fails the start with Boot's failure report) and, with Micrometer, the meters. Imported by
 * each starter's auto-configuration, which adds the Tomcat customizer and the health contributor of its Boot line.
 */
@Configuration(proxyBeanMethods = false)
@EnableConfigurationProperties(MsmProperties.class)
public class MsmCommonConfiguration {

    @Bean
    public MsmSessionManagers msmSessionManagers(MsmProperties properties,
            ObjectProvider<MsmManagerCustomizer> customizers, ResourceLoader resourceLoader, Environment environment) {
        return new MsmSessionManagers(properties, customizers.orderedStream().toList(),
                resourceLoader.getClassLoader(), environment);
    }

    /**
     * msm's secrets ({@code msm.session-keys}, {@code msm.password}) stay masked in the actuator's configprops and env
     * endpoints even where {@code show-values} shows the other values.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.SanitizingFunction")
    static class Secrets {
        @Bean
        org.springframework.boot.actuate.endpoint.SanitizingFunction msmSecrets() {
            return data -> MsmSecrets.isSecret(data.getKey()) ? data.withSanitizedValue() : data;
        }
    }

    /** msm's meters, when the application has Micrometer (Boot's actuator brings it). */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "io.micrometer.core.instrument.MeterRegistry")
    static class Meters {
        @Bean
        MsmMeters msmMeters(MsmSessionManagers managers, ObjectProvider<MeterRegistry> registry) {
            return new MsmMeters(managers, registry);
        }
    }
}
