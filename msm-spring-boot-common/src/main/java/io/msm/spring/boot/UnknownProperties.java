package io.msm.spring.boot;

import io.msm.config.MsmConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.context.properties.source.IterableConfigurationPropertySource;
import org.springframework.core.env.Environment;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;

/**
 * {@code msm.*} properties msm does not know, from the application's configuration files, the command line and
 * environment variables (such as {@code MSM_LOCKINGMOD}): a misspelled property would otherwise be ignored without a
 * word. They are named without their values, as a misspelled {@code msm.pasword} holds a secret. JVM system
 * properties are left out: tools and agents set their own there.
 */
final class UnknownProperties {
    private static final ConfigurationPropertyName MSM = ConfigurationPropertyName.of("msm");

    private UnknownProperties() {
    }

    /** One problem per unknown property, e.g. {@code msm.locking-mod: not an msm property}. */
    static List<String> of(Environment environment) {
        Set<String> known = new TreeSet<>();
        for (String attribute : MsmConfig.ATTRIBUTES) {
            known.add(uniform(ManagerAttributes.propertyName(attribute)));
        }
        known.add(uniform("msm.jvm-route"));
        Set<String> unknown = new TreeSet<>();
        for (ConfigurationPropertySource source : ConfigurationPropertySources.get(environment)) {
            Object underlying = source.getUnderlyingSource();
            boolean systemProperties = underlying instanceof PropertySource
                    && StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME.equals(
                            ((PropertySource<?>) underlying).getName());
            if (source instanceof IterableConfigurationPropertySource && !systemProperties) {
                ((IterableConfigurationPropertySource) source).stream()
                        .filter(MSM::isAncestorOf)
                        .filter(name -> !known.contains(uniform(name.toString())))
                        .forEach(name -> unknown.add(name.toString()));
            }
        }
        List<String> problems = new ArrayList<>();
        for (String name : unknown) {
            problems.add(name + ": not an msm property (msm's README, section Spring Boot, lists them)");
        }
        return problems;
    }

    /**
     * Lower case letters and digits, list indexes dropped: {@code msm.locking-mode}, {@code MSM_LOCKINGMODE},
     * {@code MSM_LOCKING_MODE} (as Boot reads environment variables) -> msmlockingmode.
     */
    private static String uniform(String name) {
        return name.replaceAll("\\[[^\\]]*\\]", "").toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
    }
}
