package io.msm.spring.boot;

import io.msm.tomcat.MemcachedSessionManager;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.catalina.Container;
import org.apache.catalina.Context;
import org.apache.catalina.Engine;
import org.springframework.core.env.Environment;

/**
 * Puts msm on the embedded Tomcat's context (the starter calls {@link #install(Context)} from a Tomcat context
 * customizer) and remembers the managers it made, for the meters and the health contributor.
 */
public final class MsmSessionManagers {

    private final MsmProperties properties;
    private final List<MsmManagerCustomizer> customizers;
    private final ClassLoader classLoader;
    private final Environment environment;
    private final List<MemcachedSessionManager> managers = new CopyOnWriteArrayList<>();
    private ManagerAttributes attributes;

    public MsmSessionManagers(MsmProperties properties, List<MsmManagerCustomizer> customizers,
            ClassLoader classLoader, Environment environment) {
        this.properties = properties;
        this.customizers = List.copyOf(customizers);
        this.classLoader = classLoader;
        this.environment = environment;
    }

    /**
     * A new msm manager for {@code context}, configured by the properties and the application's customizers. The
     * properties are checked when the first context is made, that is when the embedded Tomcat is (not in a test
     * without a server, where a memcached host name may not resolve).
     *
     * @throws MsmPropertiesException if a property is invalid or unknown (the application fails to start, and Boot's
     *                                failure analysis names each one)
     */
    public void install(Context context) {
        ManagerAttributes attributes = attributes();
        String jvmRoute = properties.getJvmRoute();
        if (jvmRoute != null && !jvmRoute.isBlank()) {
            // Boot adds the context to its host before it runs the customizers, and starts the engine (and so
            // msm, which reads the route when it starts) only afterwards
            engineOf(context).setJvmRoute(jvmRoute.trim());
        }
        MemcachedSessionManager manager = new MemcachedSessionManager();
        attributes.applyTo(manager);
        for (MsmManagerCustomizer c : customizers) {
            c.customize(manager);
        }
        context.setManager(manager);
        managers.add(manager);
    }

    private synchronized ManagerAttributes attributes() {
        if (attributes == null) {
            attributes = ManagerAttributes.validated(properties, UnknownProperties.of(environment), classLoader);
        }
        return attributes;
    }

    /** The managers made so far (one per context of the embedded Tomcat; Boot makes one). */
    public List<MemcachedSessionManager> managers() {
        return List.copyOf(managers);
    }

    private static Engine engineOf(Context context) {
        for (Container c = context; c != null; c = c.getParent()) {
            if (c instanceof Engine) {
                return (Engine) c;
            }
        }
        throw new IllegalStateException("msm.jvm-route: the context " + context.getName() + " has no engine");
    }
}
