package io.msm.it.springsecurity;

import io.msm.tomcat.MemcachedSessionManager;
import org.apache.catalina.Container;
import org.apache.catalina.Engine;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.embedded.tomcat.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * msm as the session manager of the embedded Tomcat, as in {@code io.msm.it.springboot.MemcachedSessionsConfiguration},
 * with the mode and the instance's jvmRoute configurable: {@code msm.memcached-nodes}, {@code msm.sticky}
 * ({@code true} or {@code false}) and {@code msm.jvm-route} (empty: none).
 */
@Configuration
public class MemcachedSessions {

    @Bean
    public WebServerFactoryCustomizer<TomcatServletWebServerFactory> memcachedSessionManager(
            @Value("${msm.memcached-nodes}") String memcachedNodes, @Value("${msm.sticky}") String sticky,
            @Value("${msm.jvm-route:}") String jvmRoute) {
        return factory -> factory.addContextCustomizers(context -> {
            if (!jvmRoute.isEmpty()) {
                // Spring Boot adds the context to its host before it runs the customizers, and starts the engine
                // (and so msm, which reads the route at its start) only afterwards
                engineOf(context).setJvmRoute(jvmRoute);
            }
            MemcachedSessionManager manager = new MemcachedSessionManager();
            manager.setMemcachedNodes(memcachedNodes);
            manager.setSticky(sticky);
            context.setManager(manager);
        });
    }

    private static Engine engineOf(Container container) {
        for (Container c = container; c != null; c = c.getParent()) {
            if (c instanceof Engine engine) {
                return engine;
            }
        }
        throw new IllegalStateException("no engine above " + container.getName());
    }
}
